import CCurl
import Foundation
import Synchronization

/// A curl easy handle. Only one thread uses it at a time (the pool hands it out exclusively).
struct CurlEasy: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// Idle easy handles. A handle keeps its connections open, so reusing it reuses them.
/// Every handle is freed: on check-in past the limit, or when the pool goes away.
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlEasy]>([])
    private let maxIdle: Int

    /// curl_global_init is not thread-safe: run it once, lazily and atomically.
    private static let globalInit: CURLcode = curl_global_init(3)  // CURL_GLOBAL_ALL

    init(maxIdle: Int) {
        self.maxIdle = max(0, maxIdle)
        _ = Self.globalInit
    }

    deinit {
        idle.withLock { handles in
            for handle in handles { curl_easy_cleanup(handle.raw) }
            handles.removeAll()
        }
    }

    func checkout() throws(AWSError) -> CurlEasy {
        guard Self.globalInit == CURLE_OK else {
            throw AWSError.transport(
                .other, host: "",
                detail: "curl_global_init failed: \(String(cString: curl_easy_strerror(Self.globalInit)))",
                curlCode: Int(Self.globalInit.rawValue))
        }
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        guard let raw = curl_easy_init() else {
            throw AWSError.transport(.other, host: "", detail: "curl_easy_init failed", curlCode: 0)
        }
        return CurlEasy(raw: raw)
    }

    func checkin(_ handle: CurlEasy) {
        let kept = idle.withLock { handles in
            guard handles.count < maxIdle else { return false }
            handles.append(handle)
            return true
        }
        if !kept { curl_easy_cleanup(handle.raw) }
    }

    /// One blocking exchange on a pooled handle.
    func perform(_ request: HTTPRequest, configuration: CurlTransport.Configuration) throws(AWSError)
        -> HTTPResponse
    {
        let host = request.url.host ?? ""
        let handle = try checkout()
        defer { checkin(handle) }
        let easy = handle.raw
        curl_easy_reset(easy)  // keeps the connection cache, clears the previous request's options

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        // curl's syntax for a header with an empty value is "Name;". "Expect:" saves the
        // 100-continue round trip; the empty ones stop curl adding its own.
        var lines =
            request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" } + [
                "Expect:", "Accept:",
            ]
        if request.header("Content-Type") == nil { lines.append("Content-Type:") }
        if request.header("User-Agent") == nil { lines.append("User-Agent: \(configuration.userAgent)") }
        for line in lines {
            // On failure curl_slist_append returns NULL and leaves the list as it was (freed above).
            guard let longer = curl_slist_append(headerList, line) else {
                throw AWSError.transport(
                    .other, host: host, detail: "curl_slist_append failed (out of memory)", curlCode: 0)
            }
            headerList = longer
        }

        let sink = ResponseSink()
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }

        var rc = CURLE_OK
        func set(_ code: CURLcode) { if rc == CURLE_OK { rc = code } }
        set(kr_curl_setopt_string(easy, CURLOPT_URL, request.url.absoluteString))
        set(kr_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(kr_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        set(kr_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(kr_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let ca = configuration.caBundle { set(kr_curl_setopt_string(easy, CURLOPT_CAINFO, ca)) }
        set(kr_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout * 1000)))
        set(kr_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(configuration.totalTimeout * 1000)))
        set(kr_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))
        set(kr_curl_setopt_write_function(easy, curlWriteBody))
        set(kr_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, sinkPointer.toOpaque()))
        set(kr_curl_setopt_header_function(easy, curlWriteHeader))
        set(kr_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, sinkPointer.toOpaque()))
        switch request.method.uppercased() {
        case "GET" where request.body.isEmpty:
            set(kr_curl_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case "HEAD":
            set(kr_curl_setopt_long(easy, CURLOPT_NOBODY, 1))
        case "DELETE" where request.body.isEmpty:
            set(kr_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, "DELETE"))
        case let method:
            // POSTFIELDSIZE before COPYPOSTFIELDS, which copies the body (binary-safe with a size).
            set(kr_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            request.body.withUnsafeBytes { bytes in
                let empty: StaticString = ""
                let pointer = bytes.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
                set(kr_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: pointer)))
            }
            if method != "POST" { set(kr_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)) }
        }
        guard rc == CURLE_OK else {
            throw AWSError.transport(
                .invalidRequest, host: host, detail: String(cString: curl_easy_strerror(rc)),
                curlCode: Int(rc.rawValue))
        }

        rc = curl_easy_perform(easy)
        guard rc == CURLE_OK else { throw AWSError.transport(curl: rc, host: host) }
        var status = 0
        _ = kr_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

/// Collects one response on the curl thread.
final class ResponseSink {
    var headers: [HTTPHeader] = []
    var body = Data()
}

private func curlWriteBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let user else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue()
    sink.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
    return size * count
}

private func curlWriteHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let user else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        sink.headers.removeAll()  // a new status line: 100 Continue or a proxy's CONNECT answer came first
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        sink.headers.append(HTTPHeader(name, value))
    }
    return size * count
}

extension AWSError {
    /// Maps curl's result codes onto the kinds retries and messages care about.
    static func transport(curl rc: CURLcode, host: String) -> Self {
        let detail = String(cString: curl_easy_strerror(rc))
        let failure: TransportFailure =
            switch rc {
            case CURLE_COULDNT_CONNECT: .connectFailed
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dnsFailed
            case CURLE_OPERATION_TIMEDOUT: .timedOut
            case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2,
                CURLE_HTTP2_STREAM:
                .connectionReset
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
                CURLE_SSL_CERTPROBLEM,
                CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                .tls
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
            default: .other
            }
        return transport(failure, host: host, detail: detail, curlCode: Int(rc.rawValue))
    }
}
