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

    /// Columns the text takes: two per wide scalar, one per other scalar (see ``CellWidth``).
    var columns: Int { CellWidth.columns(text) }
}

extension Grid {
    /// Writes `text` from (x, y), clipped to `clip`; returns the column after the last one written.
    /// A wide scalar takes two cells; every other scalar one (``Cell`` replaces what cannot be shown). A
    /// wide scalar that the clip would cut in half is drawn as `?`.
    @discardableResult
    mutating func write(
        _ text: String, x: Int, y: Int, role: ColorRole = .text, attributes: CellAttributes = [],
        clip: Rect
    ) -> Int {
        guard y >= clip.y && y < clip.maxY else { return x }
        var column = x
        for scalar in text.unicodeScalars {
            if column >= clip.maxX { break }
            if scalar.value >= 0x1100, let pair = Cell.wide(scalar, role: role, attributes: attributes) {
                if column >= clip.x && column + 1 < clip.maxX {
                    placeWide(pair, x: column, y: y)
                } else {
                    for half in column...(column + 1) where half >= clip.x && half < clip.maxX {
                        self[half, y] = Cell(CellWidth.replacement, role: role, attributes: attributes)
                    }
                }
                column += 2
                continue
            }
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
    /// `text` cut to at most `columns` columns, with `…` as the last column when it was cut (a wide scalar
    /// that would straddle the cut is left out whole).
    static func truncate(_ text: String, to columns: Int, ellipsis: Unicode.Scalar = "…") -> String {
        guard columns > 0 else { return "" }
        guard CellWidth.columns(text) > columns else { return text }
        var result = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let width = CellWidth.columns(scalar)
            if used + width > columns - 1 { break }
            result.append(scalar)
            used += width
        }
        result.append(ellipsis)
        return String(result)
    }

    /// `text` in at most `columns` columns, cut in the middle when it is longer, so that both ends stay:
    /// runs whose names differ only at the end (`…jump5e-2_at50pct`, `…jump5e-2_at75pct`) stay apart.
    static func elideMiddle(_ text: String, to columns: Int, ellipsis: Unicode.Scalar = "…") -> String {
        guard columns > 0 else { return "" }
        guard CellWidth.columns(text) > columns else { return text }
        let scalars = Array(text.unicodeScalars)
        let room = columns - 1
        var head = String.UnicodeScalarView()
        var tail: [Unicode.Scalar] = []
        var used = 0
        var front = 0
        var back = scalars.count - 1
        // The end gets the larger half: that is where sweep runs differ (seeds, fractions).
        while front <= back {
            let takeBack = used < room && (tail.count <= head.count)
            let scalar = takeBack ? scalars[back] : scalars[front]
            let width = CellWidth.columns(scalar)
            if used + width > room { break }
            used += width
            if takeBack {
                tail.append(scalar)
                back -= 1
            } else {
                head.append(scalar)
                front += 1
            }
        }
        head.append(ellipsis)
        head.append(contentsOf: tail.reversed())
        return String(head)
    }

    /// `text` broken into lines at spaces: the first at most `firstWidth` columns, the others at most
    /// `width`. A word longer than a line is broken where the line ends. Never returns no lines.
    static func wrap(_ text: String, firstWidth: Int, width: Int) -> [String] {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        var lineColumns = 0
        func limit() -> Int { max(2, lines.isEmpty ? firstWidth : width) }
        func finishLine() {
            lines.append(String(line))
            line = String.UnicodeScalarView()
            lineColumns = 0
        }
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            let wordColumns = CellWidth.columns(String(word))
            if lineColumns > 0 && lineColumns + 1 + wordColumns > limit() { finishLine() }
            if lineColumns > 0 {
                line.append(" ")
                lineColumns += 1
            }
            for scalar in word.unicodeScalars {
                let columns = CellWidth.columns(scalar)
                if lineColumns + columns > limit() { finishLine() }
                line.append(scalar)
                lineColumns += columns
            }
        }
        if lineColumns > 0 || lines.isEmpty { finishLine() }
        return lines
    }

    /// `text` padded with spaces on the left to `columns`.
    static func padLeft(_ text: String, to columns: Int) -> String {
        let missing = columns - CellWidth.columns(text)
        return missing > 0 ? String(repeating: " ", count: missing) + text : text
    }

    /// `text` padded with spaces on the right to `columns`.
    static func padRight(_ text: String, to columns: Int) -> String {
        let missing = columns - CellWidth.columns(text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }
}
