/// A piece of styled text for one line.
struct Span: Sendable {
    var text: String
    var role: ColorRole
    var attributes: CellAttributes

    init(_ text: String, _ role: ColorRole = .text, _ attributes: CellAttributes = []) {
        self.text = text
        self.role = role
        self.attributes = attributes
    }

    /// Columns the text takes: one per scalar, as ``Cell`` makes every scalar one column wide.
    var columns: Int { text.unicodeScalars.count }
}

extension Grid {
    /// Writes `text` from (x, y), clipped to `clip`; returns the column after the last one written.
    /// Every scalar becomes one cell (``Cell`` replaces anything that is not one column wide).
    @discardableResult
    mutating func write(
        _ text: String, x: Int, y: Int, role: ColorRole = .text, attributes: CellAttributes = [],
        clip: Rect
    ) -> Int {
        guard y >= clip.y && y < clip.maxY else { return x }
        var column = x
        for scalar in text.unicodeScalars {
            if column >= clip.maxX { break }
            if column >= clip.x { self[column, y] = Cell(scalar, role: role, attributes: attributes) }
            column += 1
        }
        return column
    }

    /// Writes spans one after another from (x, y), clipped to `clip`.
    @discardableResult
    mutating func write(_ spans: [Span], x: Int, y: Int, clip: Rect) -> Int {
        var column = x
        for span in spans {
            column = write(
                span.text, x: column, y: y, role: span.role, attributes: span.attributes, clip: clip)
        }
        return column
    }

    /// Fills a rect with one cell.
    mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        for y in rect.y..<rect.maxY {
            for x in rect.x..<rect.maxX { self[x, y] = cell }
        }
    }
}

/// Fitting text into a number of columns.
enum Fit {
    /// `text` cut to `columns`, with `…` as the last column when it was cut.
    static func truncate(_ text: String, to columns: Int, ellipsis: Unicode.Scalar = "…") -> String {
        guard columns > 0 else { return "" }
        let scalars = text.unicodeScalars
        guard scalars.count > columns else { return text }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars.prefix(columns - 1))
        result.append(ellipsis)
        return String(result)
    }

    /// `text` broken into lines at spaces: the first at most `firstWidth` columns, the others at most
    /// `width`. A word longer than a line is broken where the line ends. Never returns no lines.
    static func wrap(_ text: String, firstWidth: Int, width: Int) -> [String] {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        var lineColumns = 0
        func limit() -> Int { max(1, lines.isEmpty ? firstWidth : width) }
        func finishLine() {
            lines.append(String(line))
            line = String.UnicodeScalarView()
            lineColumns = 0
        }
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var scalars = Substring(word).unicodeScalars[...]
            if lineColumns > 0 && lineColumns + 1 + scalars.count > limit() { finishLine() }
            if lineColumns > 0 {
                line.append(" ")
                lineColumns += 1
            }
            while lineColumns + scalars.count > limit() {
                let room = limit() - lineColumns
                line.append(contentsOf: scalars.prefix(room))
                scalars = scalars.dropFirst(room)
                finishLine()
            }
            line.append(contentsOf: scalars)
            lineColumns += scalars.count
        }
        if lineColumns > 0 || lines.isEmpty { finishLine() }
        return lines
    }

    /// `text` padded with spaces on the left to `columns`.
    static func padLeft(_ text: String, to columns: Int) -> String {
        let missing = columns - text.unicodeScalars.count
        return missing > 0 ? String(repeating: " ", count: missing) + text : text
    }
}
