import KLDetector

/// The colour role and rank of a detector status, for points and status marks.
enum StatusStyle {
    static func role(_ status: StepStatus) -> ColorRole {
        switch status {
        case .warmingUp: .dim
        case .normal: .pointNormal
        case .warning: .pointWarning
        case .critical: .pointCritical
        }
    }

    /// Which status wins a cell shared by several points: the worst.
    static func rank(_ status: StepStatus) -> UInt8 { status.rawValue }
}
