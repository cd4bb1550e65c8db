import Foundation

extension String {
    /// Unicode Normalization Form C: `V` + U+0303 becomes `Ṽ`. Identifiers are compared in this form.
    public var nfc: String { precomposedStringWithCanonicalMapping }
    /// Unicode Normalization Form D (base letters followed by combining marks).
    var decomposedNFD: String { decomposedStringWithCanonicalMapping }
}
