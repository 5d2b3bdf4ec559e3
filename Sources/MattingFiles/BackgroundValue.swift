import Dispatch
import Synchronization

/// A value computed on another thread from the moment this is made; ``value()`` waits for it.
///
/// Whoever calls ``value()`` gets the value or the error the computation threw, exactly as if
/// it had run there; a value nobody asks for is simply dropped (the computation still runs to
/// its end). The `matte` program loads the network this way while the photo decodes: loading
/// (TFLite parsing, weight packing, graph compilation, ~7–13 ms) and JPEG decoding (~10 ms at
/// 2 MP) are both single-threaded, so on two cores they overlap.
///
/// ```swift
/// let network = BackgroundValue { try Matter() }
/// let photo = try Image(contentsOf: url)        // decodes while the model loads
/// let matter = try network.value()
/// ```
package final class BackgroundValue<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `body` on a global queue.
    package init(_ body: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let outcome = Result { try body() }
            result.withLock { $0 = outcome }
            finished.signal()
        }
    }

    /// The value, once computed (waits until then); rethrows the computation's error.
    package func value() throws -> Value {
        finished.wait()
        // Later callers must not wait for a signal that will not come again.
        defer { finished.signal() }
        return try result.withLock { $0! }.get()
    }
}
