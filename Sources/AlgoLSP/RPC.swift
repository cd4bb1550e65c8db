/// A JSON-RPC / LSP error answer: code and message.
public struct RPCError: Error, Sendable, Equatable {
    public let code: Int
    public let message: String
    public init(_ code: Int, _ message: String) { self.code = code; self.message = message }

    /// The codes of JSON-RPC 2.0 and LSP 3.17 this server answers with.
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let serverNotInitialized = -32002
    public static let requestFailed = -32803

    static func notOpen(_ uri: String) -> RPCError {
        RPCError(invalidParams, "`\(uri)` is not open (send textDocument/didOpen first)")
    }

    static func badParams(_ method: String) -> RPCError {
        RPCError(invalidParams, "`\(method)`: missing or malformed params")
    }
}

/// One incoming message, classified.
enum Incoming {
    /// A request: it must be answered with the same `id`.
    case request(id: JSON, method: String, params: JSON?)
    /// A notification: never answered.
    case notification(method: String, params: JSON?)
    /// A response to a request of ours (the server sends none), ignored.
    case response
    /// Not a JSON-RPC message; answered with an error whose id is the message's, or null.
    case invalid(id: JSON, RPCError)

    init(_ j: JSON) {
        guard case .object(let o) = j else {
            self = .invalid(id: .null, RPCError(RPCError.invalidRequest, "a message must be a JSON object"))
            return
        }
        let id = o["id"]
        if let id {
            switch id {
            case .string, .number: break
            case .null, .bool, .array, .object:
                self = .invalid(id: .null, RPCError(RPCError.invalidRequest, "`id` must be a number or a string"))
                return
            }
        }
        guard let m = o["method"] else {
            self = (o["result"] != nil || o["error"] != nil) && id != nil
                ? .response : .invalid(id: id ?? .null, RPCError(RPCError.invalidRequest, "a message without `method`"))
            return
        }
        guard let method = m.string else {
            self = .invalid(id: id ?? .null, RPCError(RPCError.invalidRequest, "`method` must be a string"))
            return
        }
        if let id { self = .request(id: id, method: method, params: o["params"]) } else { self = .notification(method: method, params: o["params"]) }
    }
}
