import AlgoSyntax
import Foundation

/// `Grammar/algo.tmLanguage.json`, generated from the lexer's tables (`Spellings`: every symbol
/// with its Unicode, ASCII and alias spellings, the letters, the accents) and the parser's
/// keywords (`Keywords`), so that highlighting cannot drift from the lexer: `TextMateGrammarTests`
/// compares the committed file with `TextMateGrammar.text` (`ALGO_BLESS=1` rewrites it).
public enum TextMateGrammar {
    /// The grammar as pretty-printed JSON with sorted keys, ending in a newline.
    public static var text: String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? e.encode(grammar)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Escapes a literal spelling for an Oniguruma (and ICU) regular expression.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\^$.|?*+()[]{}/".contains(c) { out += "\\" }
            out.append(c)
        }
        return out
    }

    /// Alternatives, longest first so that `<-` wins over `<` and `\mathbb{R}` over `\mathbb`.
    static func alternatives(_ spellings: [String]) -> String {
        let unique = Array(Set(spellings)).sorted { ($0.count, $0) > ($1.count, $1) }
        return "(?:" + unique.map(escape).joined(separator: "|") + ")"
    }

    /// Symbols that are constants rather than operators.
    static let constantSymbols: Set<Symbol> = [.reals, .naturals, .ones, .infinity]
    /// Punctuation: left to the editor's default colour.
    static let punctuation: Set<Symbol> = [.leftParen, .rightParen, .leftBracket, .rightBracket, .leftBrace, .rightBrace,
                                           .comma, .semicolon, .colon, .bar, .period, .underscore, .caret]

    static func spellings(_ keep: (Symbol) -> Bool) -> [String] {
        Spellings.symbols.filter { keep($0.symbol) }.flatMap { [$0.unicode, $0.ascii] + $0.aliases }
    }

    /// Letters of a name: any Unicode letter or mark, digits after the first, primes.
    static let name = "[\\p{L}][\\p{L}\\p{M}\\p{N}′']*"

    static var grammar: JSON {
        let keywords = "\\b(?:" + Keywords.control.joined(separator: "|") + ")\\b"
        let header = "^\\s*(" + HeaderKind.allCases.map(\.rawValue).joined(separator: "|") + ")\\s*(:)"
        let collection = "\\b(?:consisting of|includes all of the following parameters)\\b"
        let letters = alternatives(Spellings.letters.map(\.ascii) + Spellings.accents.map(\.ascii)) + "(?![A-Za-z])"
        let operators = alternatives(spellings { !constantSymbols.contains($0) && !punctuation.contains($0) && $0 != .emDash && $0 != .upArrow })
        let constants = alternatives(spellings { constantSymbols.contains($0) })
        let dash = alternatives([Symbol.emDash.unicode, Symbol.emDash.ascii])
        let repository: [String: JSON] = [
            "comments": ["patterns": [
                ["name": "comment.line.double-slash.algo", "match": "//.*$"],
                ["name": "comment.block.algo", "match": "/\\*.*?(?:\\*/|$)"],
            ]],
            "title": [
                "begin": JSON("^(" + Keywords.titles.joined(separator: "|") + ")\\s+([^:\\s]*)\\s*(:)"),
                "beginCaptures": ["1": ["name": "keyword.other.title.algo"], "2": ["name": "constant.numeric.algo"], "3": ["name": "punctuation.separator.algo"]],
                "end": "$",
                "name": "meta.title.algo",
                "patterns": [
                    ["match": JSON(dash + ".*$"), "name": "comment.line.prose.algo"],
                    ["match": JSON("(" + name + ")(?=\\s*\\()"), "captures": ["1": ["name": "entity.name.function.algo"]]],
                    ["include": "#code"],
                ],
            ],
            "header": ["match": JSON(header), "captures": ["1": ["name": "keyword.other.header.algo"], "2": ["name": "punctuation.separator.algo"]]],
            "lineNumber": ["match": "^\\s*[0-9]+(?=\\s)", "name": "constant.numeric.line-number.algo"],
            "code": ["patterns": [
                ["include": "#comments"],
                ["match": JSON(keywords), "name": "keyword.control.algo"],
                ["match": JSON(collection), "name": "keyword.other.collection.algo"],
                ["match": "\"[^\"\\n]*\"", "name": "string.quoted.double.algo"],
                ["match": "\\b[0-9]+(?:\\.[0-9]+)?\\b", "name": "constant.numeric.algo"],
                ["match": JSON(constants), "name": "constant.language.algo"],
                ["match": JSON(letters), "name": "variable.other.letter.algo"],
                ["match": JSON(operators), "name": "keyword.operator.algo"],
                ["match": JSON("(" + name + ")(?=\\()"), "captures": ["1": ["name": "entity.name.function.call.algo"]]],
                ["match": JSON(name), "name": "variable.other.algo"],
            ]],
        ]
        return [
            "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
            "name": "algo",
            "scopeName": "source.algo",
            "fileTypes": ["algo"],
            "comment": "Generated by TextMateGrammar (Sources/AlgoLSP) from the lexer's spelling tables; do not edit: ALGO_BLESS=1 swift test --filter TextMateGrammarTests",
            "patterns": [["include": "#title"], ["include": "#header"], ["include": "#lineNumber"], ["include": "#code"]],
            "repository": .object(repository),
        ]
    }
}
