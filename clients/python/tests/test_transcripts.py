"""Every Protocol/examples/*.jsonl transcript, replayed line by line against the real binary."""
import json

import pytest

from conftest import EXAMPLES
import transcripts

FILES = sorted(EXAMPLES.glob("*.jsonl"))


def test_the_examples_are_found():
    assert len(FILES) >= 6, f"no transcripts in {EXAMPLES}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_transcript(merit_bin, tmp_path, path):
    transcripts.replay(merit_bin, path, str(tmp_path / "data"))


def test_event_lines_after_a_response_are_expected_output(tmp_path):
    response = {"jsonrpc": "2.0", "id": 1, "result": {}}
    event = {"jsonrpc": "2.0", "method": "event", "params": {"id": "evt_1", "sequence": 1}}
    path = tmp_path / "99-events.jsonl"
    path.write_text("\n".join([
        '{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}', json.dumps(response), json.dumps(event),
        json.dumps(event),
        '{"jsonrpc":"2.0","method":"$/ping"}', "null",
        'not json', '{"jsonrpc":"2.0","id":null,"error":{}}',
        '{"jsonrpc":"2.0","id":2,"method":"event"}', json.dumps({"jsonrpc": "2.0", "id": 2, "result": {}}),
    ]) + "\n")
    exchanges = transcripts.load(path)
    assert [e.line for e in exchanges] == [1, 5, 7, 9]
    assert exchanges[0].expected == [response, event, event]
    assert exchanges[1].expected == []
    assert exchanges[2].request == "not json"
    assert exchanges[3].expected == [{"jsonrpc": "2.0", "id": 2, "result": {}}]


def test_json_equality_is_strict_about_types():
    assert transcripts.json_equal({"a": 1, "b": [1, 2.5]}, {"b": [1, 2.5], "a": 1})
    assert not transcripts.json_equal({"a": True}, {"a": 1})
    assert not transcripts.json_equal({"a": None}, {})
    assert not transcripts.json_equal([1, 2], [2, 1])
