import KLDetector

/// How `check` prints alerts.
public enum AlertOutputFormat: String, Sendable, CaseIterable {
    /// One readable line per alert, then a summary per run.
    case text
    /// One JSON object per alert, for scripts.
    case jsonl
}

/// Formats alerts and run summaries for `check`.
public enum AlertOutput {
    public static func line(for alert: Alert, run: String, metric: String, format: AlertOutputFormat)
        -> String
    {
        switch format {
        case .jsonl:
            return "{\"run\": \(JSONText.string(run)), \"metric\": \(JSONText.string(metric)), "
                + "\"detector\": \"\(Alert.detector)\", \"step\": \(alert.step), "
                + "\"severity\": \"\(alert.severity.rawValue)\", "
                + "\"kl_divergence\": \(JSONText.number(alert.klDivergence)), "
                + "\"rolling_mean\": \(JSONText.number(alert.rollingMean)), "
                + "\"rolling_std\": \(JSONText.number(alert.rollingStd)), "
                + "\"z_score\": \(JSONText.number(alert.zScore))}"
        case .text:
            let label = alert.severity == .critical ? "CRITICAL" : "WARNING "
            return "\(TerminalText.inert(run)): step \(alert.step) \(label) "
                + "\(TerminalText.inert(metric))=\(Figures.short(alert.klDivergence)) "
                + "z=\(Figures.short(alert.zScore, digits: 4)) "
                + "(baseline mean \(Figures.short(alert.rollingMean)), σ \(Figures.short(alert.rollingStd))). "
                + alert.recommendation
        }
    }
}

/// JSON text for values kltop writes.
public enum JSONText {
    /// A JSON string literal, escaping quotes, backslashes and every control character.
    public static func string(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) {
                    result += "\\u" + TerminalText.hex(scalar.value, width: 4)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A number that reads back as the same double; non-finite values as the strings "inf", "-inf", "nan".
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "\"nan\"" }
        if value == .infinity { return "\"inf\"" }
        if value == -.infinity { return "\"-inf\"" }
        return "\(value)"
    }
}

/// Short human forms of numbers for text output and the dashboard.
public enum Figures {
    /// A number in `digits` significant digits (`%g`): `0.01142`, `1.732e+04`, `inf`.
    public static func short(_ value: Double, digits: Int = 4) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return cFormat(value, "%.\(digits)g")
    }
}
