import Foundation

/// Turns an error response into an `AWSError`, whatever the protocol:
/// EC2 `<Response><Errors><Error>`, query `<ErrorResponse><Error>`, S3 `<Error>`, JSON `__type`.
enum AWSErrorDecoder {
    static func decode(_ response: HTTPResponse, service: String, action: String) -> AWSError {
        let headerId = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        var error = AWSError(
            code: fallbackCode(response.status), message: "", requestId: headerId, httpStatus: response.status,
            service: service, action: action)
        if let xml = XMLElement.parse(response.body), let node = xml.find("Error") {
            error.code = node.string("Code") ?? error.code
            error.message = node.string("Message") ?? ""
            error.requestId = xml.string("RequestID") ?? xml.string("RequestId") ?? node.string("RequestId") ?? headerId
        } else if let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] {
            // `__type` may be `com.amazon.coral.service#Code`; the message key's case varies.
            if let type = (object["__type"] as? String) ?? (object["code"] as? String) {
                error.code = type.split(separator: "#").last.map(String.init) ?? type
            }
            error.message = (object["message"] as? String) ?? (object["Message"] as? String) ?? ""
        }
        if let header = response.header("x-amzn-ErrorType"), error.code == fallbackCode(response.status) {
            error.code = header.split(separator: ":").first.map(String.init) ?? header
        }
        return error
    }

    /// For bodiless answers (HEAD, or a proxy's page): a code from the status, as S3 SDKs do.
    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 301: "PermanentRedirect"
        case 304: "NotModified"
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 412: "PreconditionFailed"
        case 429: "TooManyRequestsException"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        default: "HTTP\(status)"
        }
    }
}
