import Foundation
import Testing

/// Ties `Grammar/algo.ebnf` to the parser: every lower-case production has a method
/// `parse<Production>` whose `///` line quotes the rule exactly, and every such method has its
/// production.
@Suite struct GrammarTests {
    /// `name = rule ;` lines of the EBNF (lower-case names only; upper-case ones are tokens).
    static func productions() throws -> [String: String] {
        let text = try String(contentsOf: Support.repositoryRoot.appendingPathComponent("Grammar/algo.ebnf"), encoding: .utf8)
        var rules: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.range(of: " = "), line.first?.isLowercase == true else { continue }
            let name = String(line[..<eq.lowerBound])
            guard name.allSatisfy({ $0.isLowercase || $0 == "_" }) else { continue }
            rules[name] = String(line)
        }
        return rules
    }

    /// `parseX` methods of the parser sources, with the `///` rule line above each.
    static func parseMethods() throws -> [String: String] {
        let dir = Support.repositoryRoot.appendingPathComponent("Sources/AlgoSyntax")
        var methods: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("Parser") {
            let lines = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (i, line) in lines.enumerated() {
                guard let r = line.range(of: "func parse"), let next = line[r.upperBound...].first, next.isUppercase else { continue }
                let method = String(line[line.index(r.lowerBound, offsetBy: 5)...].prefix { $0.isLetter || $0.isNumber })
                var doc = ""
                var j = i - 1
                while j >= 0, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                    let t = lines[j].trimmingCharacters(in: .whitespaces).dropFirst(3).trimmingCharacters(in: .whitespaces)
                    if t.contains(" = ") && t.hasSuffix(";") { doc = t }
                    j -= 1
                }
                methods[method] = doc
            }
        }
        return methods
    }

    static func methodName(_ production: String) -> String {
        "parse" + production.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    @Test func everyProductionHasItsMethodAndEveryMethodItsProduction() throws {
        let rules = try GrammarTests.productions()
        let methods = try GrammarTests.parseMethods()
        #expect(rules.count > 40)
        let expected = Set(rules.keys.map(GrammarTests.methodName))
        #expect(expected.subtracting(methods.keys).sorted() == [], "productions without a parse method")
        #expect(Set(methods.keys).subtracting(expected).sorted() == [], "parse methods without a production")
    }

    @Test func everyMethodQuotesItsRule() throws {
        let rules = try GrammarTests.productions()
        let methods = try GrammarTests.parseMethods()
        for (name, rule) in rules {
            #expect(methods[GrammarTests.methodName(name)] == rule, "\(name)")
        }
    }
}
