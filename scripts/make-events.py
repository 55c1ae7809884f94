#!/usr/bin/env python3
"""Regenerate events/*.json (API Gateway HTTP API v2 events) from fixtures/qapla/*.json.

Usage: python3 scripts/make-events.py   (from the repository root)
Each event posts one fixture to the route Qapla' would use; the channel comes from the
fixture's key (test-channel-key-<channel>). One extra event sends a body base64-encoded,
as API Gateway does for some content types. Also writes:
- events/sqs-shipment-delivered.json: an SQS event for the delivery function (DeliveryFunction);
- events/env.json: `sam local invoke --env-vars` file putting every function in local mode
  (in-process delivery, channel settings inline from local/channels.example.json);
- events/release-page-open.json: the release page of a held parcel (ReleaseFunction), its
  link signed with env.json's local key as `bridge_core::links` signs (an HMAC-SHA-256 over
  `release-link/v1.<payload>`), expiring in 2100.
"""
import base64
import hashlib
import hmac
import json
import pathlib

# The release links' key of local runs (env.json's RELEASE_LINK_KEY): not a secret.
LOCAL_LINK_KEY = "local-release-link-key-for-sam-local-invoke-only-0123"

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
    write_extras(out)


def sqs_event():
    """One queued envelope, as the shipment webhook hands it off (see delivery::Envelope)."""
    fields = {
        "courierStatus": "CONSEGNATA", "customerEmail": "giulia.rossi@example.com",
        "customerName": "Giulia Rossi", "language": "it", "qaplaStatus": "Consegnato",
        "qaplaStatusID": "99", "reference": "ORDER-51704", "trackingNumber": "580104809",
        "trackingUrl": "https://www.example-shop.it/tracking?number=580104809&courier=BRT",
    }
    envelope = {
        "eventId": "5a0f3c1e0d6b4e1f9a7c2b8d6e4f1a3c5b7d9e0f1a2b3c4d5e6f708192a3b4c5",
        "channel": "it", "kind": "shipment", "key": "580104809", "statusId": "99",
        "occurredAt": "2024-03-16 11:42:10", "repeatKey": "99/",
        "event": {"alias": "order-status-change", "reception": "shipmentStatus", "fields": fields},
    }
    group = "it:shipment:580104809"
    return {"Records": [{
        "messageId": "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
        "receiptHandle": "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw",
        "body": json.dumps(envelope, ensure_ascii=False),
        "attributes": {
            "ApproximateReceiveCount": "1", "SentTimestamp": "1710585730000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1710585730100",
            "SequenceNumber": "18849496460467696128", "MessageGroupId": group,
            "MessageDeduplicationId": envelope["eventId"],
        },
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bridge-EventQueue.fifo",
        "awsRegion": "eu-west-1",
    }]}


def env_file():
    """Local mode for every function of template.yaml (keys are its logical ids)."""
    channels = json.dumps(json.loads((ROOT / "local" / "channels.example.json").read_text()), separators=(",", ":"))
    webhook = {"HAND_OFF_QUEUE_URL": "", "CHANNELS_JSON": channels}
    return {
        "ShipmentFunction": webhook, "ReturnFunction": webhook, "OrderFunction": webhook,
        "DeliveryFunction": {**webhook, "DEAD_LETTER_QUEUE_URL": "", "STATE_TABLE": ""},
        # The reconciler and the backfill function have no local mode: they read Qapla' and
        # the stack's table and queues.
        "ReconcilerFunction": {},
        "BackfillFunction": {},
        # The release page in local mode: the one-use ledger in memory, the local key.
        "ReleaseFunction": {**webhook, "STATE_TABLE": "", "RELEASE_LINK_SECRET": "", "RELEASE_LINK_KEY": LOCAL_LINK_KEY},
    }


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def release_event():
    """GET /release/{token} for the held parcel of shipment-v1.2-exception-on-hold.json."""
    link = {"c": "it", "s": "1234567890", "t": "2253647804", "r": "2007135", "k": "DHL",
            "l": "it", "h": 1561021920, "n": 1561021920, "e": 4102444800}
    payload = b64url(json.dumps(link, separators=(",", ":")).encode())
    mac = hmac.new(LOCAL_LINK_KEY.encode(), f"release-link/v1.{payload}".encode(), hashlib.sha256)
    path = f"/release/{payload}.{b64url(mac.digest())}"
    doc = event("x", "it", "", name="release-page-open")
    doc.update({"routeKey": "GET /release/{token}", "rawPath": path, "pathParameters": {"token": path.rsplit("/", 1)[1]},
                "body": None})
    doc["headers"] = {"user-agent": "Mozilla/5.0", "host": doc["headers"]["host"]}
    doc["requestContext"].update({"routeKey": "GET /release/{token}", "http": {**doc["requestContext"]["http"], "method": "GET", "path": path}})
    return doc


def write_extras(out):
    extras = [("sqs-shipment-delivered.json", sqs_event()), ("env.json", env_file()),
              ("release-page-open.json", release_event())]
    for name, doc in extras:
        (out / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
