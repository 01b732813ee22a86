"""The students panel: a table of id, editable name, current and dominant emotion and time in
view, and the user's say over who is a student: hide one (a poster, a shirt, the teacher), count
one the automatic rules leave out, merge two ids of one student, and undo.

Counted students come first; those not counted follow, greyed, with the reason. The panel only
asks (signals); the window makes the change on the session and keeps the undo list.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QContextMenuEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..analysis.session import StudentRow
from ..core.clock import clock
from ..outputs.record import HIDDEN, student_label
from .charts import emotion_colour

COLUMNS = ("ID", "Name", "Now", "Mostly", "Seen")
NAME_COLUMN = 1
HIDE_TIP = "Not a student (a poster, a shirt, the teacher): left out of the charts and every export"


class StudentsTable(QTableWidget):
    """Rows in snapshot order, counted students first; a right click opens the roster menu."""

    renamed = Signal(int, str)  # student id, new name
    selected = Signal(object)  # student id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # narrow: the dock is narrow
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.students: dict[int, StudentRow] = {}  # by id, as last shown
        self._order: list[int] = []  # the id on each row
        self.context_menu: QMenu | None = None  # set by the panel
        self.itemChanged.connect(self._on_item_changed)
        self.itemSelectionChanged.connect(self._on_selection)

    def student_at(self, row: int) -> int:
        return self._order[row]

    def row_of(self, student_id: int) -> int | None:
        return self._order.index(student_id) if student_id in self._order else None

    def selected_student(self) -> StudentRow | None:
        rows = {index.row() for index in self.selectedIndexes()}
        return self.students.get(self._order[rows.pop()]) if rows else None

    def update_rows(self, rows: list[StudentRow]) -> None:
        """Show a snapshot's students: counted ones first, then the others with their reason. While
        a name is being typed the table waits (rows may move)."""
        if self.state() == QAbstractItemView.State.EditingState:
            return
        order = [s for s in rows if s.counted] + [s for s in rows if not s.counted]
        chosen = self.selected_student()
        self.blockSignals(True)
        try:
            self.setRowCount(len(order))
            for row, student in enumerate(order):
                self._show(row, student)
            self._order = [s.student_id for s in order]
            self.students = {s.student_id: s for s in order}
            kept = self.row_of(chosen.student_id) if chosen else None
            if kept is None:
                self.clearSelection()
            elif {index.row() for index in self.selectedIndexes()} != {kept}:
                self.selectRow(kept)  # the same student, wherever their row went
        finally:
            self.blockSignals(False)
        if chosen is not None and kept is None:
            self.selected.emit(None)  # merged into another or gone

    def clear_students(self) -> None:
        self.blockSignals(True)
        self.setRowCount(0)
        self._order, self.students = [], {}
        self.blockSignals(False)
        self.selected.emit(None)

    def _show(self, row: int, student: StudentRow) -> None:
        merged = f" +{','.join(map(str, student.merged))}" if student.merged else ""
        self._set(row, 0, f"{student.student_id}{merged}")
        name = self.item(row, NAME_COLUMN)
        if name is None:
            name = QTableWidgetItem()
            self.setItem(row, NAME_COLUMN, name)
        if name.text() != student.name:
            name.setText(student.name)
        if student.counted:
            if self.columnSpan(row, 2) != 1:
                self.setSpan(row, 2, 1, 1)
            self._set(row, 2, student.current, student.current)
            self._set(row, 3, student.dominant, student.dominant)
        else:
            if self.columnSpan(row, 2) != 2:
                self.setSpan(row, 2, 1, 2)
            self._set(row, 2, student.reason)  # greyed, italic: why they are not counted
        self._set(row, 4, clock(student.seen_s))
        grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        text = self.palette().color(QPalette.ColorRole.Text)
        tip = ("" if student.counted else
               f"Not counted in the class's shares, the charts or the exports: {student.reason}. "
               "Right-click for Count this student, Show again or Undo.")
        for column in range(len(COLUMNS)):
            item = self.item(row, column)
            if item is not None:
                item.setForeground(QBrush(text if student.counted else grey))
                item.setToolTip(tip)
                if column == 2:
                    font = item.font()
                    font.setItalic(not student.counted)
                    item.setFont(font)

    def _set(self, row: int, column: int, text: str, emotion: str = "") -> None:
        item = self.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.setItem(row, column, item)
        if item.text() != text:
            item.setText(text)
            if emotion:
                item.setBackground(emotion_colour(emotion).lighter(130))
            elif column in (2, 3):
                item.setBackground(self.palette().base())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == NAME_COLUMN:
            self.renamed.emit(self.student_at(item.row()), item.text().strip())

    def _on_selection(self) -> None:
        student = self.selected_student()
        self.selected.emit(student.student_id if student else None)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        row = self.rowAt(event.pos().y())
        if row < 0 or self.context_menu is None:
            return
        self.selectRow(row)
        self.context_menu.exec(event.globalPos())


class StudentsPanel(QWidget):
    """The table, and the roster actions under it and in its right-click menu."""

    set_counted = Signal(int, object)  # student id; False hides, True counts, None: back to the rules
    merge = Signal(int, int)  # source id, the id it joins
    separate = Signal(int)  # an id merged into another, to stand alone again
    undo = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.table = StudentsTable()
        layout.addWidget(self.table, 1)
        # (menus show an action's text, the buttons its shorter icon text)
        self.hide_action = QAction("Hide (not a student)", self, iconText="Hide")
        self.hide_action.triggered.connect(self._hide_or_show)
        self.count_action = QAction("Count this student", self, iconText="Count")
        self.count_action.setToolTip("Count a student the automatic rules leave out (seen briefly, walking past)")
        self.count_action.triggered.connect(self._count)
        self.merge_menu = QMenu("Merge into…", self)
        self.merge_menu.setToolTip("One student the tracker split in two ids: this id's time and readings "
                                   "join the one you choose")
        self.merge_menu.aboutToShow.connect(self.fill_merge_menu)
        self.separate_menu = QMenu("Separate", self)
        self.separate_menu.aboutToShow.connect(self._fill_separate_menu)
        self.undo_action = QAction("Undo", self, enabled=False)
        self.undo_action.triggered.connect(self.undo)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(2, 0, 2, 2)
        for action in (self.hide_action, self.count_action):
            buttons.addWidget(self._button(action))
        self.merge_button = self._button(self.merge_menu.menuAction())
        self.merge_button.setMenu(self.merge_menu)
        self.merge_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        buttons.addWidget(self.merge_button)
        buttons.addWidget(self._button(self.undo_action))
        buttons.addStretch(1)
        layout.addLayout(buttons)
        menu = QMenu(self)
        menu.addAction(self.hide_action)
        menu.addAction(self.count_action)
        menu.addMenu(self.merge_menu)
        menu.addMenu(self.separate_menu)
        menu.addSeparator()
        menu.addAction(self.undo_action)
        menu.aboutToShow.connect(self.update_actions)
        self.table.context_menu = menu
        self.table.itemSelectionChanged.connect(self.update_actions)
        self.update_actions()

    @staticmethod
    def _button(action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def update_actions(self) -> None:
        """Each action as it applies to the selected student."""
        student = self.table.selected_student()
        hidden = student is not None and student.reason == HIDDEN
        self.hide_action.setEnabled(student is not None)
        self.hide_action.setText("Show again" if hidden else "Hide (not a student)")
        self.hide_action.setIconText("Show" if hidden else "Hide")
        self.hide_action.setToolTip("Back to the automatic rules" if hidden else HIDE_TIP)
        self.count_action.setEnabled(student is not None and not student.counted and not hidden)
        others = student is not None and any(sid != student.student_id for sid in self.table.students)
        self.merge_menu.setEnabled(others)
        self.merge_button.setEnabled(others)
        self.separate_menu.setEnabled(student is not None and bool(student.merged))

    def update_rows(self, rows: list[StudentRow]) -> None:
        self.table.update_rows(rows)
        self.update_actions()

    def set_undo(self, description: str | None) -> None:
        """The last change that Undo takes back (None: nothing to undo)."""
        self.undo_action.setEnabled(description is not None)
        self.undo_action.setText(f"Undo {description}" if description else "Undo")
        self.undo_action.setIconText("Undo")
        self.undo_action.setToolTip(f"Undo {description}" if description else "Nothing to undo")

    def fill_merge_menu(self) -> None:
        """One entry per other student, counted ones first."""
        self.merge_menu.clear()
        student = self.table.selected_student()
        if student is None:
            return
        for other in self.table.students.values():
            if other.student_id != student.student_id:
                self.merge_menu.addAction(student_label(other.student_id, other.name),
                                          self._merger(student.student_id, other.student_id))

    def _merger(self, source: int, into: int) -> Callable[[], None]:
        def merge() -> None:
            self.merge.emit(source, into)

        return merge

    def _fill_separate_menu(self) -> None:
        self.separate_menu.clear()
        student = self.table.selected_student()
        for sid in student.merged if student else ():
            self.separate_menu.addAction(f"#{sid} again on its own", self._separator(sid))

    def _separator(self, student_id: int) -> Callable[[], None]:
        def separate() -> None:
            self.separate.emit(student_id)

        return separate

    def _hide_or_show(self) -> None:
        student = self.table.selected_student()
        if student is not None:
            self.set_counted.emit(student.student_id, None if student.reason == HIDDEN else False)

    def _count(self) -> None:
        student = self.table.selected_student()
        if student is not None:
            self.set_counted.emit(student.student_id, True)
