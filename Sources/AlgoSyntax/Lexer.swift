import AlgoDiagnostics

/// Turns `.algo` text into tokens. It never fails and never hangs: every character ends up in a
/// token's text or in trivia, characters that are no token become `.unknown` tokens, and every
/// step consumes at least one character. Both spellings of a symbol (Unicode and ASCII) give the
/// same token kind and `value`.
public struct Lexer {
    let chars: [Character]
    /// UTF-8 offset of each character; `offsets[chars.count]` is the end of the text.
    let offsets: [Int]
    /// The text as UTF-8.
    let bytes: [UInt8]
    /// Whether the first token may be a line number (off when lexing a fragment for the formatter).
    let startsAtLineStart: Bool

    var pos = 0
    var column = 1
    var atLineStart: Bool
    var tokens: [Token] = []
    var trivia: [Trivia] = []

    /// The tokens of a whole file, ending with `.endOfFile`.
    public static func tokenize(_ source: SourceFile) -> [Token] {
        tokenize(source.text)
    }

    /// The tokens of a text, ending with `.endOfFile`. `lineStart: false` lexes a fragment taken from
    /// the middle of a line (a leading number is then a number, not a line number).
    public static func tokenize(_ text: String, lineStart: Bool = true) -> [Token] {
        var lexer = Lexer(text: text, lineStart: lineStart)
        lexer.run()
        return lexer.tokens
    }

    init(text: String, lineStart: Bool) {
        var cs: [Character] = []
        var offs: [Int] = []
        var o = 0
        for c in text {
            cs.append(c)
            offs.append(o)
            o += c.utf8.count
        }
        offs.append(o)
        chars = cs
        offsets = offs
        bytes = Array(text.utf8)
        startsAtLineStart = lineStart
        atLineStart = lineStart
    }

    // MARK: - Driver

    mutating func run() {
        while true {
            lexTrivia()
            guard pos < chars.count else {
                emit(.endOfFile, from: pos, value: "")
                return
            }
            let before = pos
            lexToken()
            if pos == before {
                // Cannot happen (every branch consumes), but never loop forever.
                pos += 1
                emit(.unknown, from: before, value: String(chars[before]))
            }
        }
    }

    func peek(_ k: Int = 0) -> Character? {
        let i = pos + k
        return i >= 0 && i < chars.count ? chars[i] : nil
    }

    func text(_ from: Int, _ to: Int) -> String {
        guard from < to else { return "" }
        return String(decoding: bytes[offsets[from]..<offsets[to]], as: UTF8.self)
    }

    mutating func emit(_ kind: TokenKind, from start: Int, value: String) {
        let t = Token(kind: kind, start: offsets[start], end: offsets[pos], text: text(start, pos), value: value,
                      leadingTrivia: trivia, column: column)
        tokens.append(t)
        trivia = []
        if kind == .newline {
            column = 1
            atLineStart = true
        } else {
            column += pos - start
            atLineStart = false
        }
    }

    /// Whitespace (not line breaks) and `//` comments up to the end of the line.
    mutating func lexTrivia() {
        while let c = peek() {
            if c == " " {
                let s = pos
                while let d = peek(), d == " " || (d.isWhitespace && !d.isLineBreak) { pos += 1 }
                trivia.append(.whitespace(text(s, pos)))
                column += pos - s
                continue
            }
            if c.isLineBreak { return }
            if c.isWhitespace {
                let s = pos
                while let d = peek(), d.isWhitespace, !d.isLineBreak { pos += 1 }
                trivia.append(.whitespace(text(s, pos)))
                column += pos - s
            } else if c == "/", peek(1) == "/" {
                let s = pos
                while let d = peek(), !d.isLineBreak { pos += 1 }
                trivia.append(.lineComment(text(s, pos)))
                column += pos - s
            } else {
                return
            }
        }
    }

    // MARK: - Tokens

    mutating func lexToken() {
        guard let c = peek() else { return }
        let start = pos
        if c.isLineBreak {
            pos += 1
            emit(.newline, from: start, value: "\n")
            return
        }
        // The content of an unbraced script directly after `_` or `^`.
        if trivia.isEmpty, let last = tokens.last, last.is(.underscore) || last.is(.caret), c != "{" {
            if let word = lexScriptWord(allowFraction: last.is(.caret)) {
                emit(.scriptWord, from: start, value: word)
                return
            }
            pos = start
        }
        if atLineStart, c.isASCIIDigit {
            while let d = peek(), d.isASCIIDigit { pos += 1 }
            if peek() == nil || peek()!.isWhitespace {
                emit(.lineNumber, from: start, value: text(start, pos))
                return
            }
            pos = start
        }
        if c == "/", peek(1) == "*" {
            lexBlockComment()
            return
        }
        if c == "\"", lexString() { return }
        if c.isASCIIDigit {
            while let d = peek(), d.isASCIIDigit { pos += 1 }
            if peek() == ".", let d = peek(1), d.isASCIIDigit {
                pos += 1
                while let d = peek(), d.isASCIIDigit { pos += 1 }
            }
            emit(.number, from: start, value: text(start, pos))
            return
        }
        if c == "⁻", let n = peek(1), Spellings.superscriptDigits[n] != nil {
            // `10⁻⁵`: a superscript minus before superscript digits reads as `^{−5}`.
            var v = "-"
            pos += 1
            while let n = peek(), let e = Spellings.superscriptDigits[n] { v.append(e); pos += 1 }
            emit(.superscriptDigits, from: start, value: v)
            return
        }
        if let d = Spellings.superscriptDigits[c] {
            var v = String(d)
            pos += 1
            while let n = peek(), let e = Spellings.superscriptDigits[n] { v.append(e); pos += 1 }
            emit(.superscriptDigits, from: start, value: v)
            return
        }
        if let d = Spellings.subscriptDigits[c] {
            var v = String(d)
            pos += 1
            while let n = peek(), let e = Spellings.subscriptDigits[n] { v.append(e); pos += 1 }
            emit(.subscriptDigits, from: start, value: v)
            return
        }
        if let a = c.asciiValue, Lexer.multiCharacterStarts.contains(a), lexMultiCharacterSymbol() { return }
        if c == "\\" {
            lexBackslash()
            return
        }
        if let s = Lexer.symbol(of: c) {
            pos += 1
            emit(.symbol(s), from: start, value: s.unicode)
            return
        }
        if isIdentifierStart(c) {
            let v = lexIdentifierPieces(allowLeadingDigit: false) ?? ""
            emit(.identifier, from: start, value: v.nfc)
            return
        }
        pos += 1
        emit(.unknown, from: start, value: String(c))
    }

    /// `"…"` closed on the same line: a `.string` token whose value is the text between the quotes.
    mutating func lexString() -> Bool {
        let start = pos
        var i = pos + 1
        while i < chars.count, !chars[i].isLineBreak {
            if chars[i] == "\"" {
                pos = i + 1
                emit(.string, from: start, value: text(start + 1, i))
                return true
            }
            i += 1
        }
        return false
    }

    /// `<-`, `<=`, `>=`, `!=`, `--`, `...`, `. . .`, `^T` (transpose, unless a letter or digit follows).
    mutating func lexMultiCharacterSymbol() -> Bool {
        let start = pos
        func take(_ n: Int, _ s: Symbol) -> Bool {
            pos += n
            emit(.symbol(s), from: start, value: s.unicode)
            return true
        }
        switch (peek(), peek(1)) {
        case ("<", "-"): return take(2, .leftArrow)
        case ("<", "="): return take(2, .lessEqual)
        case (">", "="): return take(2, .greaterEqual)
        case ("!", "="): return take(2, .notEqual)
        case ("-", "-"): return take(2, .emDash)
        case (".", "."):
            if peek(2) == "." { return take(3, .ellipsis) }
        case (".", " "):
            if peek(2) == ".", peek(3) == " ", peek(4) == "." { return take(5, .ellipsis) }
        case ("^", "T"):
            if let n = peek(2), isIdentifierContinue(n) || n == "\\" { return false }
            return take(2, .transpose)
        default: break
        }
        return false
    }

    /// `/* … */` on one line; without `*/` the comment runs to the end of the line (the parser
    /// reports it).
    mutating func lexBlockComment() {
        let start = pos
        pos += 2
        while let c = peek(), !c.isLineBreak {
            if c == "*", peek(1) == "/" {
                pos += 2
                let body = text(start + 2, pos - 2).trimmingSpaces()
                emit(.blockComment, from: start, value: body)
                return
            }
            pos += 1
        }
        // Unclosed: the comment ends at its last non-blank character; trailing blanks are trivia, as
        // on any line (the formatter strips them, which must not change the comment's text).
        while pos > start + 2, chars[pos - 1].isWhitespace { pos -= 1 }
        emit(.blockComment, from: start, value: text(start + 2, pos).trimmingSpaces())
    }

    /// A backslash command: a symbol (`\gets`, `\mathbb{R}`), or a letter or accent that starts an
    /// identifier (`\alpha`, `\tilde{X}`, `\mathcal{W}`); anything else is an unknown token.
    mutating func lexBackslash() {
        let start = pos
        let name = commandName(at: pos)
        if let (sym, len) = symbolCommand(at: pos, name: name) {
            pos += len
            if peek() == "{", peek(1) == "}" { pos += 2 }
            emit(.symbol(sym), from: start, value: sym.unicode)
            return
        }
        if let v = lexIdentifierPieces(allowLeadingDigit: false), !v.isEmpty {
            emit(.identifier, from: start, value: v.nfc)
            return
        }
        pos = start + 1 + name.count
        emit(.unknown, from: start, value: text(start, pos))
    }

    /// The letters after a backslash at `i`.
    func commandName(at i: Int) -> String {
        var j = i + 1
        var s = ""
        while j < chars.count, chars[j].isASCIILetter { s.append(chars[j]); j += 1 }
        return s
    }

    /// The symbol spelled by the command at `i` and its length in characters.
    func symbolCommand(at i: Int, name: String) -> (Symbol, Int)? {
        let plain = "\\" + name
        // Braced commands: \mathbb{R}, \mathbb{N}, \mathbf{1}.
        let after = i + 1 + name.count
        if after + 2 < chars.count, chars[after] == "{", chars[after + 2] == "}" {
            let braced = plain + "{" + String(chars[after + 1]) + "}"
            if let s = Spellings.symbolMacros[braced] { return (s, braced.count) }
        }
        if let s = Spellings.symbolMacros[plain] { return (s, plain.count) }
        return nil
    }

    // MARK: - Identifiers and script words

    /// Characters that may start a two- or more-character symbol (`<-`, `...`, `^T`).
    static let multiCharacterStarts: Set<UInt8> = Set("<>!-.^".utf8)

    /// Single-character symbols by ASCII code, for the common case.
    static let asciiSymbols: [Symbol?] = (0..<128).map { code in
        Spellings.symbolTexts[String(Character(Unicode.Scalar(UInt8(code))))]
    }

    /// The symbol a single character spells, if any.
    static func symbol(of c: Character) -> Symbol? {
        if let a = c.asciiValue { return Int(a) < asciiSymbols.count ? asciiSymbols[Int(a)] : nil }
        return Spellings.symbolTexts[String(c)]
    }

    func isIdentifierStart(_ c: Character) -> Bool {
        if let a = c.asciiValue {
            return (a >= 65 && a <= 90) || (a >= 97 && a <= 122)
        }
        if Spellings.symbolTexts[String(c)] != nil { return false }
        if Spellings.superscriptDigits[c] != nil || Spellings.subscriptDigits[c] != nil { return false }
        return c.isLetter
    }

    func isIdentifierContinue(_ c: Character) -> Bool {
        if let a = c.asciiValue { return (a >= 65 && a <= 90) || (a >= 97 && a <= 122) || (a >= 48 && a <= 57) || a == 39 }
        return isIdentifierStart(c) || c == Spellings.prime
    }

    /// Reads identifier pieces: letters, digits (not first unless allowed), primes, letter and
    /// accent commands. Returns the canonical text (not yet NFC), or nil if nothing was read.
    mutating func lexIdentifierPieces(allowLeadingDigit: Bool) -> String? {
        var out = ""
        while let c = peek() {
            if c == "\\" {
                guard let piece = lexLetterCommand() else { break }
                out += piece
                if peek() == "{", peek(1) == "}" { pos += 2 }
                continue
            }
            if c == "'" || c == Spellings.prime {
                guard !out.isEmpty else { break }
                out.append(Spellings.prime)
                pos += 1
                continue
            }
            if c.isASCIIDigit {
                guard !out.isEmpty || allowLeadingDigit else { break }
                out.append(c)
                pos += 1
                continue
            }
            guard isIdentifierStart(c) else { break }
            out.append(c)
            pos += 1
        }
        return out.isEmpty ? nil : out
    }

    /// `\alpha` → `α`, `\mathcal{W}` → `𝓦`, `\tilde{X}` → `X̃` (nested accents allowed); nil if the
    /// command at `pos` is none of these (position unchanged).
    mutating func lexLetterCommand() -> String? {
        let start = pos
        let name = commandName(at: pos)
        let plain = "\\" + name
        let after = pos + 1 + name.count
        if name == "mathcal", after + 2 < chars.count, chars[after] == "{", chars[after + 2] == "}" {
            if let u = Spellings.letterMacros[plain + "{" + String(chars[after + 1]) + "}"] {
                pos = after + 3
                return u
            }
            return nil
        }
        if let u = Spellings.letterMacros[plain] {
            pos = after
            return u
        }
        if let mark = Spellings.accentMacros[plain], after < chars.count, chars[after] == "{" {
            pos = after + 1
            guard let inner = lexAccentBase(), peek() == "}" else { pos = start; return nil }
            pos += 1
            var s = inner
            s.unicodeScalars.append(mark)
            return s
        }
        return nil
    }

    /// The single letter inside `\tilde{…}`: a letter, a letter command or a nested accent.
    mutating func lexAccentBase() -> String? {
        guard let c = peek() else { return nil }
        if c == "\\" { return lexLetterCommand() }
        guard isIdentifierStart(c) else { return nil }
        pos += 1
        return String(c)
    }

    /// An unbraced script: a run of letters and digits (`q`, `mlp1`, `1`, `attn`, `enc`), and after
    /// `^` a fraction of letters followed by a subscript (`e/d` in `𝓦^e/d_l`).
    mutating func lexScriptWord(allowFraction: Bool) -> String? {
        guard var w = lexIdentifierPieces(allowLeadingDigit: true) else { return nil }
        if allowFraction, peek() == "/", w.allSatisfy(\.isLetter) {
            let save = pos
            pos += 1
            if let rest = lexIdentifierPieces(allowLeadingDigit: false), rest.allSatisfy(\.isLetter), peek() == "_" {
                w += "/" + rest
            } else {
                pos = save
            }
        }
        return w.nfc
    }
}

extension Character {
    /// A line break is `\n` or `\r\n` (one `Character`), the breaks `SourceFile` counts lines by. Other
    /// vertical whitespace (a lone `\r`, U+000B, U+000C, U+0085, U+2028, U+2029) is whitespace within
    /// the line; were it a line break here, lines and columns of the lexer, the diagnostics and the
    /// formatter would disagree.
    var isLineBreak: Bool { self == "\n" || self == "\r\n" }
    var isASCIIDigit: Bool { if let a = asciiValue { a >= 48 && a <= 57 } else { false } }
    var isASCIILetter: Bool { if let a = asciiValue { (a >= 65 && a <= 90) || (a >= 97 && a <= 122) } else { false } }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
