"""The `workspace/applyEdit` parameters the edit writer sends, as JSON text (lsp/edits.py
`_params_json`, sent by protocol.request_json without lsprotocol objects): they must read as
LSP's ApplyWorkspaceEditParams, versioned, in UTF-16 positions, with `changes` only for a
client that does not take `documentChanges`."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types as lsp
from pygls.protocol import default_converter

from eager_lsp.lsp.documents import Document
from eager_lsp.lsp.edits import EditWriter
from eager_lsp.lsp.text import Text


class _Client:
    def __init__(self, document_changes: bool) -> None:
        self.document_changes = document_changes

    def client_supports(self, *path: str) -> bool:
        return self.document_changes

    def apply_edit_json(self, params_json: str) -> None:  # (not sent here)
        raise AssertionError("not sent in these tests")


@pytest.mark.parametrize("document_changes", [True, False])
def test_the_params_are_lsps_apply_workspace_edit_params(document_changes: bool) -> None:
    source = "a = '😀'\nb = 2\n"
    doc = Document(uri="file:///t/é.py", language_id="python", version=7, text=Text(source))
    writer = EditWriter(_Client(document_changes), doc, label="eager")  # type: ignore[arg-type]
    start = source.index("\n") + 1
    text = "c = 'ü\"\\\\'\n"
    params_json = writer._params_json(start - 1, start - 1, text, 7)
    assert params_json.isascii()
    params = default_converter().structure(json.loads(params_json), lsp.ApplyWorkspaceEditParams)
    assert params.label == "eager"
    changes = params.edit.document_changes
    assert changes is not None and len(changes) == 1
    change = changes[0]
    assert isinstance(change, lsp.TextDocumentEdit)
    assert (change.text_document.uri, change.text_document.version) == (doc.uri, 7)
    [edit] = change.edits
    assert isinstance(edit, lsp.TextEdit) and edit.new_text == text
    # the end of line 0, in UTF-16 code units: the emoji counts two
    end_of_line_0 = lsp.Position(line=0, character=len("a = '") + 2 + 1)
    assert edit.range == lsp.Range(start=end_of_line_0, end=end_of_line_0)
    if document_changes:
        assert params.edit.changes is None
    else:
        assert params.edit.changes is not None
        assert list(params.edit.changes) == [doc.uri]
        assert list(params.edit.changes[doc.uri]) == [edit]
