/// A rectangle of screen cells.
public struct Rect: Equatable, Sendable {
    public var row: Int, column: Int, width: Int, height: Int
    public init(row: Int, column: Int, width: Int, height: Int) {
        self.row = row; self.column = column; self.width = width; self.height = height
    }
}

/// Where each panel goes for a terminal size: title bar on top, editor left, sidebar right
/// (F3), inspector under the editor (F4), status line and key bar at the bottom.
public struct Layout: Equatable, Sendable {
    public static let minWidth = 60
    public static let minHeight = 16
    public static let sidebarWidth = 36
    /// Narrower terminals get a one-line summary instead of the sidebar, so code keeps ≥ 70 columns.
    public static let compactBelow = 110

    public var title: Rect
    public var editor: Rect
    public var sidebar: Rect?
    public var inspector: Rect?
    /// Below `compactBelow` columns the sidebar folds into this one-line summary.
    public var compactSidebar: Rect?
    public var status: Rect
    public var keyBar: Rect
    public var tooSmall: Bool

    public init(width: Int, height: Int, sidebar showSidebar: Bool, inspectorRows: Int?) {
        tooSmall = width < Self.minWidth || height < Self.minHeight
        title = Rect(row: 0, column: 0, width: width, height: 1)
        status = Rect(row: height - 2, column: 0, width: width, height: 1)
        keyBar = Rect(row: height - 1, column: 0, width: width, height: 1)
        let compact = showSidebar && width < Self.compactBelow
        compactSidebar = compact ? Rect(row: height - 3, column: 0, width: width, height: 1) : nil
        let mainHeight = max(0, height - 3 - (compact ? 1 : 0))
        let sideWidth = showSidebar && !compact ? Self.sidebarWidth : 0
        let editorWidth = width - sideWidth
        sidebar = sideWidth > 0 ? Rect(row: 1, column: editorWidth, width: sideWidth, height: mainHeight) : nil
        var editorHeight = mainHeight
        if let rows = inspectorRows {
            let h = min(rows, mainHeight / 2 + 1)
            inspector = Rect(row: 1 + mainHeight - h, column: 0, width: editorWidth, height: h)
            editorHeight = mainHeight - h
        }
        editor = Rect(row: 1, column: 0, width: editorWidth, height: editorHeight)
    }
}
