#!/usr/bin/env python3
"""Regenerate events/*.json (API Gateway HTTP API v2 events) from fixtures/qapla/*.json.

Usage: python3 scripts/make-events.py   (from the repository root)
Each event posts one fixture to the route Qapla' would use; the channel comes from the
fixture's key (test-channel-key-<channel>). One extra event sends a body base64-encoded,
as API Gateway does for some content types.
"""
import base64
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROUTES = {"shipment": "shipments", "return": "returns", "orders": "orders"}


def event(route, channel, body_text, b64=False, name=""):
    path = f"/qapla/{channel}/{route}"
    body = base64.b64encode(body_text.encode()).decode() if b64 else body_text
    return {
        "version": "2.0",
        "routeKey": f"POST /qapla/{{channel}}/{route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json;",
            "user-agent": "Mozilla/5.0",
            "host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "content-length": str(len(body_text.encode())),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "34.96.89.1",
                "userAgent": "Mozilla/5.0",
            },
            "requestId": f"sample-{name}",
            "routeKey": f"POST /qapla/{{channel}}/{route}",
            "stage": "$default",
            "time": "16/Mar/2024:10:42:10 +0000",
            "timeEpoch": 1710585730000,
        },
        "pathParameters": {"channel": channel},
        "body": body,
        "isBase64Encoded": b64,
    }


def main():
    out = ROOT / "events"
    out.mkdir(exist_ok=True)
    for fixture in sorted((ROOT / "fixtures" / "qapla").glob("*.json")):
        text = fixture.read_text()
        doc = json.loads(text)
        key = doc.get("apiKey") or doc.get("webhookReturnShipments", {}).get("apiKey")
        channel = key.rsplit("-", 1)[-1]
        route = next(r for prefix, r in ROUTES.items() if fixture.stem.startswith(prefix))
        variants = [(fixture.stem, False)]
        if fixture.stem == "shipment-v1.3-delivered":
            variants.append((fixture.stem + "-base64", True))
        for name, b64 in variants:
            path = out / f"{name}.json"
            path.write_text(json.dumps(event(route, channel, text, b64, name), indent=2, ensure_ascii=False) + "\n")
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
