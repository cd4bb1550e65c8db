// GPT-2's byte-level scheme, as HuggingFace's `ByteLevel` pre-tokenizer and decoder implement it
// (Radford et al. 2019, `encoder.py`; `tokenizers/src/pre_tokenizers/byte_level.rs`):
//
// * every byte is shown as one printable character (`bytes_to_unicode`): the 188 printable bytes
//   `!`…`~`, `¡`…`¬`, `®`…`ÿ` stand for themselves, the other 68 (space, controls, …) for U+0100 + n
//   in byte order (space is `Ġ`, newline `Ċ`), so `vocab.json` and `merges.txt` are text;
// * a text is cut into pieces by GPT-2's pattern, tried in this order at each position:
//   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
//   (letters L*, numbers N*, whitespace = the Unicode White_Space property), and merges never
//   cross a piece. Written out by hand below, without a regex engine.

/// GPT-2's byte ↔ character table and its pre-tokenization.
public enum ByteLevel {
    /// The character that stands for each byte (index = byte).
    public static let characterOfByte: [Unicode.Scalar] = {
        var printable: [Int] = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var chars = printable
        var n = 0
        for b in 0..<256 where !printable.contains(b) {
            printable.append(b)
            chars.append(256 + n)
            n += 1
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for (b, c) in zip(printable, chars) { table[b] = Unicode.Scalar(UInt32(c))! }
        return table
    }()

    /// The byte each table character stands for.
    public static let byteOfCharacter: [UInt32: UInt8] = {
        var d: [UInt32: UInt8] = [:]
        for (b, c) in characterOfByte.enumerated() { d[c.value] = UInt8(b) }
        return d
    }()

    /// `bytes` written with the table's characters (how `vocab.json` spells a token).
    public static func spell(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(characterOfByte[Int(b)]) }
        return String(s)
    }

    /// The bytes a table-spelled token stands for, or nil when it holds a character outside the table.
    public static func bytes(ofSpelling token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byteOfCharacter[s.value] else { return nil }
            out.append(b)
        }
        return out
    }

    // MARK: - Pre-tokenization

    private enum Class { case letter, number, space, other }

    private static func classify(_ s: Unicode.Scalar) -> Class {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation, .dashPunctuation, .openPunctuation,
             .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol,
             .modifierSymbol, .otherSymbol, .spaceSeparator, .lineSeparator, .paragraphSeparator, .control, .format,
             .surrogate, .privateUse, .unassigned:
            return .other
        @unknown default: return .other
        }
    }

    /// The pieces of `text` by GPT-2's pattern, as ranges of its Unicode scalars (in order, covering it).
    public static func pieces(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(classify)
        let n = scalars.count
        var out: [Range<Int>] = []
        var i = 0
        func run(from k: Int, _ c: Class) -> Int { var j = k; while j < n, classes[j] == c { j += 1 }; return j }
        while i < n {
            // 's 't 're 've 'm 'll 'd
            if scalars[i] == "'", i + 1 < n {
                let a = scalars[i + 1], b: Unicode.Scalar? = i + 2 < n ? scalars[i + 2] : nil
                if a == "s" || a == "t" || a == "m" || a == "d" { out.append(i..<(i + 2)); i += 2; continue }
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { out.append(i..<(i + 3)); i += 3; continue }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            let start = scalars[i] == " " && i + 1 < n && classes[i + 1] != .space ? i + 1 : i
            if classes[start] != .space {
                let end = run(from: start, classes[start])
                out.append(i..<end)
                i = end
                continue
            }
            // `\s+(?!\S)` then `\s+`: a run of whitespace leaves its last character to the next piece
            // when a non-space follows (so that ` word` keeps its space).
            let end = run(from: i, .space)
            if end < n, end - i >= 2 {
                out.append(i..<(end - 1))
                i = end - 1
            } else {
                out.append(i..<end)
                i = end
            }
        }
        return out
    }
}
