extension Duration {
    /// The duration in seconds, as a `Double` (attosecond precision folded in).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
