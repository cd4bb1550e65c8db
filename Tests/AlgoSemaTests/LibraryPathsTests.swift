import Testing
@testable import AlgoSema

/// The path rules of "the directory is the library" (`LibraryPaths`).
@Suite struct LibraryPathsTests {
    @Test("the directory above: plain arithmetic, also for `.` and `..` (a file named without a directory)")
    func parent() {
        #expect(LibraryPaths.parent(of: ".") == "..")
        #expect(LibraryPaths.parent(of: "..") == "../..")
        #expect(LibraryPaths.parent(of: "Algorithms/GPT2") == "Algorithms")
        #expect(LibraryPaths.parent(of: "Algorithms/GPT2/") == "Algorithms")
        #expect(LibraryPaths.parent(of: "Algorithms") == ".")
        #expect(LibraryPaths.parent(of: "/work/Algorithms") == "/work")
        #expect(LibraryPaths.parent(of: "/work") == "/")
        #expect(LibraryPaths.directory(of: "GPT2.algo") == ".")
        #expect(LibraryPaths.directory(of: "Algorithms/GPT2/GPT2.algo") == "Algorithms/GPT2")
    }

    @Test("the directory above is searched for a directory of experiments, or when it holds algorithms itself")
    func searchesParent() {
        let listing: [String: [String]] = ["Algorithms": ["Attention.algo", "MHAttention.algo"], "Algorithms/GPT2": ["GPT2.algo"], ".": []]
        let files = { (d: String) in listing[d] ?? [] }
        #expect(LibraryPaths.searchesParent(of: "Algorithms/GPT2", holdsExperiment: false, algoFiles: files))
        #expect(LibraryPaths.searchesParent(of: "Algorithms/Experiments", holdsExperiment: true, algoFiles: files))
        #expect(!LibraryPaths.searchesParent(of: "Algorithms", holdsExperiment: false, algoFiles: files))
        #expect(LibraryPaths.searchesParent(of: "Algorithms", holdsExperiment: true, algoFiles: files))
    }
}
