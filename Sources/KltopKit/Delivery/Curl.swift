import CCurl

/// What one attempt at sending gave.
public enum SendOutcome: Equatable, Sendable {
    case delivered
    /// Worth trying again: unreachable, timed out, a 5xx, a 429 (with the server's `Retry-After` seconds).
    case retry(reason: String, after: Double?)
    /// Trying again would fail the same way: a 4xx, a refused login, a message the channel cannot make.
    case failed(reason: String)
}

/// HTTP and SMTP through the system's libcurl, which does both (and SMTP's STARTTLS), on any Linux.
///
/// A reason given back never holds the URL or a credential: a webhook URL's path is its secret, so only
/// libcurl's generic wording of its error (`Couldn't connect to server`) and the status are said.
enum Curl {
    private static let initialised: Bool = curl_global_init(ccurl_global_default()) == CURLE_OK

    /// What the server answered with: its status and `Retry-After` header.
    private final class Response {
        var retryAfter: Double?
    }

    /// The bytes to upload (an email), read by libcurl in pieces.
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Sends `body` with `method` (POST or PUT) and waits for the answer, at most `timeout` seconds.
    static func http(
        method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Double
    ) -> SendOutcome {
        guard initialised, let handle = curl_easy_init() else {
            return .retry(reason: "libcurl could not start", after: nil)
        }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in [("Content-Type", "application/json")] + headers.map({ ($0.name, $0.value) }) {
            list = curl_slist_append(list, "\(header.0): \(header.1)")
        }
        defer { curl_slist_free_all(list) }
        let response = Response()
        common(handle, url: url, timeout: timeout)
        _ = ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        _ = ccurl_setopt_list(handle, CURLOPT_HTTPHEADER, list)
        _ = ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { _, size, count, _ in size * count }
        _ = ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, context in
            let line = String(
                decoding: UnsafeRawBufferPointer(start: buffer, count: size * count), as: UTF8.self)
            if line.lowercased().hasPrefix("retry-after:"), let context {
                let value = line.dropFirst("retry-after:".count).trimmingWhitespace
                Unmanaged<Response>.fromOpaque(context).takeUnretainedValue().retryAfter = Double(value)
            }
            return size * count
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, Unmanaged.passUnretained(response).toOpaque())
        let code = body.withUnsafeBufferPointer { bytes -> CURLcode in
            _ = ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
            _ = ccurl_setopt_pointer(
                handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else { return transportFailure(code) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        switch status {
        case 200..<300: return .delivered
        case 429: return .retry(reason: "HTTP 429 (too many requests)", after: response.retryAfter)
        case 408, 500..<600: return .retry(reason: "HTTP \(status)", after: response.retryAfter)
        default: return .failed(reason: "HTTP \(status)")
        }
    }

    /// Sends one email through an SMTP server: STARTTLS where the server offers it (`smtps://` on port
    /// 465), a login when a user is given.
    static func smtp(
        host: String, port: Int, user: String, password: String, from: String, to: [String], message: [UInt8],
        timeout: Double
    ) -> SendOutcome {
        guard initialised, let handle = curl_easy_init() else {
            return .retry(reason: "libcurl could not start", after: nil)
        }
        defer { curl_easy_cleanup(handle) }
        let scheme = port == 465 ? "smtps" : "smtp"
        common(handle, url: "\(scheme)://\(host):\(port)", timeout: timeout)
        _ = ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        if !user.isEmpty {
            _ = ccurl_setopt_string(handle, CURLOPT_USERNAME, user)
            _ = ccurl_setopt_string(handle, CURLOPT_PASSWORD, password)
        }
        _ = ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }
        _ = ccurl_setopt_list(handle, CURLOPT_MAIL_RCPT, recipients)
        let upload = Upload(message)
        _ = ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        _ = ccurl_setopt_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
            guard let context, let buffer else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            upload.bytes.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(
                    from: bytes.baseAddress! + upload.offset, byteCount: length)
            }
            upload.offset += length
            return length
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
        let code = curl_easy_perform(handle)
        var reply = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &reply)
        if code == CURLE_LOGIN_DENIED { return .failed(reason: "the SMTP server refused the login") }
        if code != CURLE_OK && (500..<600).contains(reply) {
            return .failed(reason: "the SMTP server refused the message (\(reply))")
        }
        guard code == CURLE_OK else { return transportFailure(code) }
        return .delivered
    }

    private static func common(_ handle: UnsafeMutableRawPointer, url: String, timeout: Double) {
        _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
        // Threads: no SIGALRM for name lookups.
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 5) * 1000))
        _ = ccurl_setopt_string(handle, CURLOPT_USERAGENT, "kltop")
    }

    /// libcurl's own words for an error, which name no URL.
    private static func transportFailure(_ code: CURLcode) -> SendOutcome {
        let reason = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .failed(reason: reason)
        default: return .retry(reason: reason, after: nil)
        }
    }
}

extension Substring {
    fileprivate var trimmingWhitespace: Substring {
        var text = self
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return text
    }
}
