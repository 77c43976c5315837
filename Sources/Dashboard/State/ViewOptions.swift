/// How runs are shown: everything the view keys change that does not touch the detector.
public struct ViewOptions: Equatable, Sendable {
    public var glyphs: GlyphSet
    /// l: plot log10 of KL.
    public var logScale: Bool
    /// s: the smoothing weight of TensorBoard's EMA on the displayed series; 0 is off.
    public var smoothing: Double
    /// x: the whole run, or the last steps at full resolution.
    public var zoom: Zoom
    /// o: a panel per run, or all runs in one plot.
    public var layout: PlotLayout
    /// y: scale the plot to the bulk of its values and mark the outliers at its edge (TensorBoard's
    /// "ignore outliers in chart scaling"), or hold every value.
    public var ignoresOutliers: Bool
    /// The band as a shaded background behind the points (256 colours with a theme that has a
    /// `band_shade`), rather than dotted cells around them; the terminal layer decides.
    public var shadesBand: Bool
    /// Least seconds between refreshes of the numbers that change every step (headers, steps/s).
    public var figureInterval: Double
    /// Where delivered alerts also go (`slack`, `email`, `--on-alert`), for the help to say.
    public var alertChannels: [String] = []

    public init(
        glyphs: GlyphSet = .braille, logScale: Bool = false, smoothing: Double = 0, zoom: Zoom = .wholeRun,
        layout: PlotLayout = .stacked, ignoresOutliers: Bool = true, shadesBand: Bool = false,
        figureInterval: Double = 0.25
    ) {
        self.glyphs = glyphs
        self.logScale = logScale
        self.smoothing = smoothing
        self.zoom = zoom
        self.layout = layout
        self.ignoresOutliers = ignoresOutliers
        self.shadesBand = shadesBand
        self.figureInterval = figureInterval
    }

    public enum Zoom: Equatable, Sendable {
        case wholeRun
        /// One step per dot column over the latest steps, jumping by half a page.
        case recent
    }

    public enum PlotLayout: Equatable, Sendable {
        case stacked
        case overlay
    }

    /// The weights s cycles through: off, then TensorBoard's default 0.6, then heavier.
    public static let smoothingWeights: [Double] = [0, 0.6, 0.9, 0.99]
}

/// What fills the screen below the status bar.
public enum Screen: Equatable, Sendable {
    case runs
    /// ?: the keys.
    case help
    /// h: every delivered alert, newest first.
    case alertHistory
}
