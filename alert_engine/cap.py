"""An alert version as OASIS CAP 1.2 XML (``application/cap+xml``): pure, no I/O.

Built with the standard library's ElementTree, element by element in the order the OASIS
schema's ``xs:sequence`` fixes (``alert_engine/data/cap/CAP-v1.2.xsd``, checked by the tests).

Decisions, with the spec's reasons:

* **Times** are ``YYYY-MM-DDThh:mm:ss±hh:mm``, no fractional seconds (the schema's pattern has
  no room for them). CAP 1.2 §3.3.2: "Alphabetic timezone designators such as 'Z' MUST NOT be
  used. The timezone for UTC MUST be represented as '-00:00'", so a UTC time ends ``-00:00``.
  Fractions are truncated, never rounded, and ``references`` are re-rendered the same way, so
  each reference repeats the ``<sent>`` of the message it names character for character.
* **Language tags** are the contract's own ``ar``, ``fr``, ``zgh`` and ``en`` (RFC 3066, kept
  by its successor BCP 47). Without a region they match every locale of the language under
  RFC 4647 lookup, which truncates the user's range (a phone set to ``ar-EG`` or ``fr-FR`` still
  finds its block; a tag of ``ar-MA`` would be missed); ``ar-MA`` would also suggest Moroccan
  Arabic (which has its own code, ``ary``), while the text is Modern Standard Arabic. ``zgh``
  is Standard Moroccan Amazigh, whose standard script is Tifinagh, so ``-Tfng`` would add
  nothing a consumer can act on. ``en`` is always written out: CAP's default is ``en-US``.
* **Event** in each ``<info>``'s own language (the AMBER name, "Child Abduction Emergency", in
  English; the message's ``event`` field keeps it for JSON consumers), as are a photo's
  ``resourceDesc`` and the ``areaDesc``: a consumer shows a block's elements together.
* **Category** ``Rescue`` ("rescue and recovery"), as in the spec's own AMBER Alert example,
  with the event code ``SAME``/``CAE`` (Child Abduction Emergency), the code consumers of
  US-style feeds classify AMBER alerts by.
* **responseType** ``Monitor`` (watch for the child, call the number in ``instruction``);
  ``AllClear`` on a Cancel.
* **Area**: what the alert targets (``Area.targeting``), and nothing wider, as CAP 1.2 §3.2.4
  makes an area the **union** of its polygons, circles and geocodes: a consumer alerts all of
  each. Targeting ``polygon``: the sent polygons (GeoJSON is lon/lat, CAP is "lat,lon":
  swapped; closed ring; one ``<polygon>`` per part of a MultiPolygon) and no geocode, as each
  region or province the zone touches would add all of itself (a Fnideq zone would alert the
  whole Oriental). A CAP polygon has no holes, and an outer ring alone would alert an enclave
  the zone leaves out (Ceuta, Melilla): the engine sends hole-free parts, and a polygon that
  still has holes is cut into such parts here (``alert_engine.hole_free``), so CAP and GeoJSON
  always describe the same region. Targeting ``geocodes`` (the polygons reach land beyond the
  161 m rule, possibly across a border): the ISO 3166-2 codes of the provinces the zone
  touches, and no polygon; the provinces tile the territory, so they cover the zone's, and
  their regions would only add ground. The unclipped ``<circle>`` elements (one per trusted
  location, each inside the unclipped zone) would add back the foreign land and sea that
  clipping removed: they are written only when asked for.
* **Parameters** ``CMAMtext`` (the 90-character short text) and ``CMAMlongtext`` (the
  360-character description), the names the CAP IPAWS profile's WEA channel reads.
"""

from __future__ import annotations

import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import shapely

from alert_engine.hole_free import hole_free_parts
from alert_engine.texts import TEMPLATES
from shared.alert_contract import AlertMessage, Area, InfoBlock, Language

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
CATEGORY = "Rescue"
EVENT_CODE = ("SAME", "CAE")
GEOCODE_SCHEME = "ISO3166-2"
COORDINATE_DECIMALS = 6  # about 0.1 m; Google's CAP requirements allow at most 6

# XML 1.0 cannot carry C0 controls other than tab, LF and CR (nor U+FFFE/U+FFFF, nor lone
# surrogates); ElementTree would write them and make the document unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def cap_datetime(value: datetime) -> str:
    """CAP's dateTime: whole seconds, numeric offset, ``-00:00`` for UTC (CAP 1.2 §3.3.2)."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"CAP times need a time zone; got naive {value.isoformat()}")
    if offset % timedelta(minutes=1):
        raise ValueError(f"CAP offsets are whole minutes; got {offset}")
    stamp = value.replace(microsecond=0, tzinfo=None).isoformat()
    if not offset:
        return f"{stamp}-00:00"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{stamp}{sign}{hours:02d}:{mins:02d}"


def reference_in_cap_format(reference: str) -> str:
    """Re-renders a ``sender,identifier,sent`` reference with ``sent`` in CAP's format."""
    parts = reference.split(",")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"a CAP reference is 'sender,identifier,sent'; got {reference!r}")
    sender, identifier, sent = parts
    return f"{sender},{identifier},{cap_datetime(datetime.fromisoformat(sent))}"


def _rings(geometry: dict[str, Any]) -> Iterator[Sequence[Sequence[float]]]:
    """One hole-free ring per CAP polygon."""
    kind = geometry.get("type")
    if kind == "Polygon":
        polygons = [geometry["coordinates"]]
    elif kind == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"the zone must be a GeoJSON Polygon or MultiPolygon; got {kind!r}")
    for rings in polygons:
        if len(rings) == 1:
            yield rings[0]
            continue
        polygon = shapely.Polygon(rings[0], rings[1:])
        for part in hole_free_parts(polygon):
            # A hole no chord can cut (degenerate input) is filled in: wider, never narrower.
            yield shapely.get_coordinates(part.exterior).tolist()


def _number(value: float) -> str:
    text = f"{value:.{COORDINATE_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def cap_polygon(ring: Sequence[Sequence[float]]) -> str:
    """A GeoJSON ring (``[lon, lat]`` positions) as a CAP polygon: closed "lat,lon" pairs."""
    pairs = [f"{_number(position[1])},{_number(position[0])}" for position in ring]
    if pairs and pairs[0] != pairs[-1]:
        pairs.append(pairs[0])
    if len(pairs) < 4:
        raise ValueError(f"a CAP polygon needs at least 4 coordinate pairs; got {len(pairs)}")
    return " ".join(pairs)


def _mime_type(uri: str) -> str:
    guessed, _ = mimetypes.guess_type(urlsplit(uri).path, strict=False)
    return guessed or "application/octet-stream"  # CAP 1.2 requires one; no guessing beyond


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = _text(text)
    return element


def _add_pairs(parent: ET.Element, tag: str, pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        holder = _add(parent, tag)
        _add(holder, "valueName", name)
        _add(holder, "value", value)


def _area(parent: ET.Element, area: Area, language: Language, *, include_circle: bool) -> None:
    element = _add(parent, "area")
    _add(element, "areaDesc", area.descriptions.get(language, area.description))
    if area.targeting == "polygon":
        for ring in _rings(area.geojson):
            _add(element, "polygon", cap_polygon(ring))
    if include_circle:
        for circle in area.circles or [area.circle]:
            center, radius = circle.center, _number(circle.radius_km)
            _add(element, "circle", f"{_number(center.lat)},{_number(center.lon)} {radius}")
    if area.targeting == "geocodes":
        _add_pairs(element, "geocode", ((GEOCODE_SCHEME, code) for code in _targeted_codes(area)))


def _targeted_codes(area: Area) -> list[str]:
    """The geocodes a CAP area targets: the provinces the zone touches, in ``geocodes``'
    order (a region adds only ground around them); every code where the kinds are not known
    (``geocode_shares`` empty)."""
    provinces = {g.code for g in area.geocode_shares if g.kind == "province"}
    if not provinces:
        return list(area.geocodes)
    return [code for code in area.geocodes if code in provinces]


def _info(
    parent: ET.Element,
    message: AlertMessage,
    block: InfoBlock,
    *,
    sender_name: str | None,
    include_circle: bool,
) -> None:
    info = _add(parent, "info")
    _add(info, "language", block.language)
    _add(info, "category", CATEGORY)
    words = TEMPLATES[block.language]
    _add(info, "event", words.event)
    _add(info, "responseType", "AllClear" if message.msg_type == "Cancel" else "Monitor")
    _add(info, "urgency", message.urgency)
    _add(info, "severity", message.severity)
    _add(info, "certainty", message.certainty)
    _add_pairs(info, "eventCode", [EVENT_CODE])
    _add(info, "effective", cap_datetime(message.effective))
    _add(info, "expires", cap_datetime(message.expires))
    if sender_name:
        _add(info, "senderName", sender_name)
    _add(info, "headline", block.headline)
    _add(info, "description", block.description)
    _add(info, "instruction", block.instruction)
    _add(info, "contact", message.contact)
    _add_pairs(
        info, "parameter", [("CMAMtext", block.short_text), ("CMAMlongtext", block.description)]
    )
    for uri in message.photo_urls:
        resource = _add(info, "resource")
        _add(resource, "resourceDesc", words.photo)
        _add(resource, "mimeType", _mime_type(uri))
        _add(resource, "uri", uri)
    _area(info, message.area, block.language, include_circle=include_circle)


def to_cap_xml(
    message: AlertMessage, *, sender_name: str | None = None, include_circle: bool = False
) -> bytes:
    """The message as a CAP 1.2 ``<alert>`` document, UTF-8, one ``<info>`` per language.

    ``sender_name`` fills ``<senderName>`` (the agency's human-readable name) when given.
    ``include_circle`` adds the zone's circle beside its polygon; see the module docstring for
    why it is off by default.
    """
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _add(alert, "identifier", message.identifier)
    _add(alert, "sender", message.sender)
    _add(alert, "sent", cap_datetime(message.sent))
    _add(alert, "status", message.status)
    _add(alert, "msgType", message.msg_type)
    _add(alert, "scope", "Public")
    if message.references:
        _add(alert, "references", " ".join(reference_in_cap_format(r) for r in message.references))
    # Every version of one case shares the incident, so consumers can group them.
    _add(alert, "incidents", message.alert_id)
    for block in message.info:  # a Cancel keeps its (take-down) info blocks
        _info(alert, message, block, sender_name=sender_name, include_circle=include_circle)
    ET.indent(alert)
    document: bytes = ET.tostring(
        alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS
    )
    return document
