/// What a cell means, not what colour it is: a ``Theme`` maps each role to colours for the terminal at hand.
///
/// The raw value is the role's key in theme files. `run0`…`run7` are the overlay's per-run colours: a run
/// keeps its colour for the whole session (``ColorRole/run(_:)``).
public enum ColorRole: String, CaseIterable, Hashable, Sendable {
    case text
    case dim
    /// The status bar on top and other titles.
    case header
    case axis
    case label
    /// The mean ± k·σ band behind the points.
    case band
    /// The band's background where it is drawn as a filled region behind the points (a cell's
    /// ``Cell/backdrop``; 256 colours only, see ``Theme/shadesTheBand(at:)``).
    case bandShade = "band_shade"
    /// The critical threshold, mean + 1.5·k·σ.
    case criticalLine = "critical_line"
    /// The frozen baseline's mean, and the mark at the step where it locked.
    case frozenMarker = "frozen_marker"
    case pointNormal = "point_normal"
    case pointWarning = "point_warning"
    case pointCritical = "point_critical"
    case bannerWarning = "banner_warning"
    case bannerCritical = "banner_critical"
    /// The focused run, a selected line.
    case selection
    case run0
    case run1
    case run2
    case run3
    case run4
    case run5
    case run6
    case run7

    /// The palette of per-run colours, in order.
    public static let runPalette: [ColorRole] = [.run0, .run1, .run2, .run3, .run4, .run5, .run6, .run7]

    /// The stable colour of the run with this index: the same run always gets the same colour.
    public static func run(_ index: Int) -> ColorRole {
        runPalette[((index % runPalette.count) + runPalette.count) % runPalette.count]
    }

    /// A one-letter code for ``Grid/roleLines()`` in tests.
    public var letter: Character {
        switch self {
        case .text: "."
        case .dim: ","
        case .header: "H"
        case .axis: "a"
        case .label: "l"
        case .band: "b"
        case .bandShade: "s"
        case .criticalLine: "c"
        case .frozenMarker: "f"
        case .pointNormal: "n"
        case .pointWarning: "w"
        case .pointCritical: "X"
        case .bannerWarning: "W"
        case .bannerCritical: "B"
        case .selection: "S"
        case .run0: "0"
        case .run1: "1"
        case .run2: "2"
        case .run3: "3"
        case .run4: "4"
        case .run5: "5"
        case .run6: "6"
        case .run7: "7"
        }
    }
}
