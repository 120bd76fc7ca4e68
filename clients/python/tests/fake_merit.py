"""A tiny scripted stand-in for ``merit serve``, for what the real server cannot do yet or on demand:
server events (``event`` notifications), an ``id: null`` error, a line that is not JSON.

Methods: initialize, shutdown, $/ping, rpc.discover, exit (notification), events.subscribe (answers
``{}`` then writes one event), events.emit {count} (answers then writes ``count`` events),
fake.null_error (answered with an id-null parse error, as merit does for a line too long),
fake.garbage (writes a line that is not JSON, then answers).
"""
import json
import sys

METHODS = ["initialize", "shutdown", "$/ping", "events.subscribe", "events.emit", "fake.null_error", "fake.garbage"]
sequence = 0


def write(message):
    sys.stdout.write(json.dumps(message) + "\n")


def event(kind):
    global sequence
    sequence += 1
    return {"jsonrpc": "2.0", "method": "event",
            "params": {"id": f"evt_{sequence:026d}", "sequence": sequence, "type": kind,
                       "created_at": "2026-04-15T09:00:00.000Z", "actor_id": None, "data": {"n": sequence}}}


def main():
    shutting_down = False
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        requests = message if isinstance(message, list) else [message]
        answers, after = [], []
        for request in requests:
            method, params, has_id = request.get("method"), request.get("params") or {}, "id" in request
            answer = {"jsonrpc": "2.0", "id": request.get("id")}
            if method == "exit":
                sys.stdout.flush()
                return 0
            if shutting_down:
                answer["error"] = {"code": -32600, "message": "The server is shutting down.",
                                   "data": {"status": 400, "code": "invalid_request"}}
            elif method == "initialize":
                answer["result"] = {"protocol_version": "2026-11-01", "server_info": {"name": "fake", "version": "0"},
                                    "capabilities": {"batch": True, "max_line_bytes": 1000},
                                    "organization": {"id": "org_x", "name": "Fake"},
                                    "principal": {"name": "admin"} if params.get("api_key") else None}
            elif method == "rpc.discover":
                answer["result"] = {"openrpc": "1.3.2", "info": {"title": "fake", "version": "0"},
                                    "methods": [{"name": m, "params": []} for m in METHODS]}
            elif method == "shutdown":
                shutting_down = True
                answer["result"] = None
            elif method == "$/ping":
                answer["result"] = {}
            elif method == "events.subscribe":
                answer["result"] = {}
                after.append(event("subscribed"))
            elif method == "events.emit":
                answer["result"] = {"emitted": params.get("count", 1)}
                after += [event("person.created") for _ in range(params.get("count", 1))]
            elif method == "fake.null_error":
                answer = {"jsonrpc": "2.0", "id": None,
                          "error": {"code": -32700, "message": "Parse error: the line is too long.",
                                    "data": {"status": 400, "code": "parse_error"}}}
            elif method == "fake.garbage":
                sys.stdout.write("this is not JSON\n")
                answer["result"] = "after garbage"
            else:
                answer["error"] = {"code": -32601, "message": f"Method '{method}' does not exist.",
                                   "data": {"status": 404, "code": "method_not_found"}}
            if has_id:
                answers.append(answer)
        if answers:
            write(answers if isinstance(message, list) else answers[0])
        for notification in after:
            write(notification)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
