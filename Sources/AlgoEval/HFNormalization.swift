// The text transformations of HuggingFace `tokenizers` that BERT's and GPT-2's `tokenizer.json`
// use, before the model splits words into tokens (`tokenizers/src/normalizers/bert.rs`,
// `pre_tokenizers/bert.rs`, `normalizers/unicode.rs`, `normalizers/strip.rs`):
//
// BertNormalizer, in this order:
//   clean_text            drop U+0000, U+FFFD and controls (categories Cc Cf Cn Co Cs, except tab,
//                         newline, carriage return); every whitespace (those three and White_Space)
//                         becomes a space
//   handle_chinese_chars  a space on each side of a CJK ideograph (the Unified Ideographs blocks)
//   strip_accents         NFD, then drop nonspacing marks (Mn); when unset, follows `lowercase`
//   lowercase             each scalar's full lowercase mapping, without context (Σ → σ always)
// BertPreTokenizer: split at White_Space (removed), then at punctuation (ASCII punctuation or a
//   P* category), each punctuation character a word of its own.

import Foundation

/// One normalization step of a `tokenizer.json` (`normalizer`).
public enum HFNormalizer: Sendable, Equatable {
    /// BERT's normalizer (see the file's header).
    case bert(cleanText: Bool, chineseChars: Bool, stripAccents: Bool, lowercase: Bool)
    /// `Lowercase`: each scalar's lowercase mapping.
    case lowercase
    /// `NFC`, `NFD`, `NFKC`, `NFKD`.
    case nfc, nfd, nfkc, nfkd
    /// `StripAccents`: drop nonspacing marks (as in HF, without a decomposition first).
    case stripAccents

    /// `text` after this step.
    public func apply(_ text: String) -> String {
        switch self {
        case let .bert(clean, chinese, strip, lower):
            var scalars = String.UnicodeScalarView()
            for s in text.unicodeScalars {
                if clean {
                    if s.value == 0 || s.value == 0xFFFD || HFNormalizer.isControl(s) { continue }
                    if HFNormalizer.isBertWhitespace(s) { scalars.append(" "); continue }
                }
                if chinese && HFNormalizer.isChineseIdeograph(s) {
                    scalars.append(" "); scalars.append(s); scalars.append(" ")
                } else {
                    scalars.append(s)
                }
            }
            var out = String(scalars)
            if strip { out = HFNormalizer.stripAccents.apply(HFNormalizer.nfd.apply(out)) }
            if lower { out = HFNormalizer.lowercase.apply(out) }
            return out
        case .lowercase:
            var scalars = String.UnicodeScalarView()
            for s in text.unicodeScalars { scalars.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) }
            return String(scalars)
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .stripAccents:
            var scalars = String.UnicodeScalarView()
            for s in text.unicodeScalars where s.properties.generalCategory != .nonspacingMark { scalars.append(s) }
            return String(scalars)
        }
    }

    /// Tab, newline, carriage return and White_Space.
    static func isBertWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Categories Cc, Cf, Cn, Co, Cs, except tab, newline and carriage return.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark,
             .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber, .connectorPunctuation,
             .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
             .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol, .spaceSeparator,
             .lineSeparator, .paragraphSeparator:
            return false
        @unknown default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT pads with spaces.
    static func isChineseIdeograph(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    /// ASCII punctuation (`!`…`/`, `:`…`@`, `[`…`` ` ``, `{`…`~`) or a punctuation category (P*).
    static func isBertPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: break
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            return true
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark,
             .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber, .mathSymbol, .currencySymbol,
             .modifierSymbol, .otherSymbol, .spaceSeparator, .lineSeparator, .paragraphSeparator, .control, .format,
             .surrogate, .privateUse, .unassigned:
            return false
        @unknown default: return false
        }
    }

    /// BertPreTokenizer: the words of `text` (whitespace removed, punctuation isolated).
    static func bertWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() { if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() } }
        for s in text.unicodeScalars {
            if s.properties.isWhitespace { flush() }
            else if isBertPunctuation(s) { flush(); words.append(String(s)) }
            else { current.append(s) }
        }
        flush()
        return words
    }
}
