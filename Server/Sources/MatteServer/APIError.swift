import Foundation
import HTTPTypes
import MattingKit

/// A refusal the server answers with: an HTTP status and one error in remove.bg's shape,
/// `{"errors": [{"title": …, "code": …}]}`, on every route.
///
/// `title` is a sentence for people (it names the parameter or the problem); `code` is a
/// stable identifier for programs. `retryAfter` adds a `Retry-After` header (seconds).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The response's status (always 4xx or 5xx).
    public var status: HTTPResponse.Status
    /// A stable, machine-readable identifier, for example `invalid_parameter`.
    public var code: String
    /// What went wrong, in words.
    public var title: String
    /// Seconds after which a retry may succeed (`Retry-After`), for 429 and 503.
    public var retryAfter: Int?

    /// An error with `status`, `code` and `title`.
    public init(_ status: HTTPResponse.Status, code: String, title: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.title = title
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(code): \(title)" }

    /// The JSON body: `{"errors":[{"title":…,"code":…}]}`.
    public var body: [UInt8] {
        let object: [String: Any] = ["errors": [["title": title, "code": code]]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return [UInt8](data)
    }

    // MARK: Common refusals

    /// 400: a parameter's value is not one the server accepts.
    static func invalidParameter(_ name: String, _ reason: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", title: "\(name): \(reason)")
    }

    /// 400: a parameter the route does not know.
    static func unknownParameter(_ name: String, route: String) -> APIError {
        APIError(.badRequest, code: "unknown_parameter", title: "\(name): \(route) has no such parameter")
    }

    /// 413: the upload is larger than the server accepts.
    static func uploadTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "file_too_large",
                 title: "the upload is larger than the server's limit of \(limit) bytes")
    }

    /// What a failure of decoding or matting means to a client.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ImageError:
            return from(imageError: error)
        case let error as MattingError:
            switch error {
            case .emptyImage:
                return APIError(.badRequest, code: "empty_image", title: "the image has no pixels")
            case .sizeMismatch, .unusableTrimap:
                return APIError(.badRequest, code: "invalid_image", title: error.description)
            case .stageFailed(_, let reason) where reason.contains("invalid argument"):
                return APIError(.badRequest, code: "invalid_parameter", title: error.description)
            default:
                return APIError(.internalServerError, code: "matting_failed", title: error.description)
            }
        case is CancellationError:
            return APIError(.serviceUnavailable, code: "cancelled", title: "the request was cancelled", retryAfter: 1)
        default:
            return APIError(.internalServerError, code: "internal_error", title: "\(error)")
        }
    }

    static func from(imageError error: ImageError) -> APIError {
        // The codecs' messages name the source as "<memory>"; the client knows which upload it sent.
        let text = error.description.replacingOccurrences(of: "<memory>: ", with: "")
        switch error {
        case .unsupportedFormat:
            return APIError(.unsupportedMediaType, code: "unsupported_image_format",
                            title: "the file is not a PNG or JPEG image (\(text))")
        case .truncated:
            return APIError(.badRequest, code: "image_truncated", title: "the image is truncated (\(text))")
        case .corrupt:
            return APIError(.badRequest, code: "image_corrupt", title: "the image is damaged (\(text))")
        case .tooLarge:
            return APIError(.contentTooLarge, code: "resolution_too_high", title: "the image has too many pixels (\(text))")
        case .invalidArgument:
            return APIError(.badRequest, code: "invalid_parameter", title: text)
        case .spill:
            // A large upload's decoded rows (turned upright by its EXIF orientation, or read
            // more than once) go through an anonymous temporary file; it is never held whole instead.
            return APIError(.internalServerError, code: "spill_failed",
                            title: "the server could not write the image's rows to a temporary file (\(text))")
        case .io, .unsupportedEncoding:
            return APIError(.internalServerError, code: "internal_error", title: text)
        }
    }
}
