"""The students table: id, editable name, current and dominant emotion, time in view."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from ..analysis.session import StudentRow
from .charts import clock, emotion_colour

COLUMNS = ("ID", "Name", "Now", "Mostly", "Seen")
NAME_COLUMN = 1


class StudentsTable(QTableWidget):
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
        self._rows: dict[int, int] = {}
        self.itemChanged.connect(self._on_item_changed)
        self.itemSelectionChanged.connect(self._on_selection)

    def student_at(self, row: int) -> int:
        item = self.item(row, 0)
        assert item is not None, "update_rows gives every row its ID item"
        return int(item.text())

    def row_of(self, student_id: int) -> int | None:
        return self._rows.get(student_id)

    def update_rows(self, rows: list[StudentRow]) -> None:
        """Refresh from a snapshot, leaving a name that is being edited alone."""
        editing = self.state() == QAbstractItemView.State.EditingState
        self.blockSignals(True)
        try:
            for student in rows:
                row = self._rows.get(student.student_id)
                if row is None:
                    row = self._rows[student.student_id] = self.rowCount()
                    self.insertRow(row)
                    self._set(row, 0, str(student.student_id))
                    self.setItem(row, NAME_COLUMN, QTableWidgetItem(student.name))
                elif not (editing and self.currentRow() == row):
                    name = self.item(row, NAME_COLUMN)
                    if name is not None and name.text() != student.name:
                        name.setText(student.name)
                self._set(row, 2, student.current, student.current)
                self._set(row, 3, student.dominant, student.dominant)
                self._set(row, 4, clock(student.seen_s))
        finally:
            self.blockSignals(False)

    def clear_students(self) -> None:
        self.blockSignals(True)
        self.setRowCount(0)
        self._rows.clear()
        self.blockSignals(False)
        self.selected.emit(None)

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
        rows = {index.row() for index in self.selectedIndexes()}
        self.selected.emit(self.student_at(rows.pop()) if rows else None)
