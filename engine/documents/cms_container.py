"""A signer's PAdES signature container (CMS SignedData), assembled from parts prepared once per signer.

pyHanko builds the CMS of every signature in asn1crypto: the signing-certificate attribute (a hash of the
certificate and its issuer and serial), the certificate set, the algorithm identifiers, all constructed and
serialised again per document. That was ~8 ms of the ~11 ms of CPU a signature cost, for bytes that are the
same every time: in a PAdES B-B signature without timestamp or revocation data only two things depend on the
document, the message digest inside the signed attributes and the signature over those attributes.

So `PreparedContainer.prepare` lets pyHanko build one container, with its own code and attributes, for a
placeholder digest; each document's container is that one with the digest replaced in place (same length)
and a fresh signature by the signer (`async_sign_raw`, the signer's own key handling), the DER lengths of the
enclosing structures recomputed (an ECDSA signature varies in length). The preparation checks that
reassembling the placeholder's own parts gives pyHanko's bytes exactly, and declines (None) a container of any
other shape (several signers, unsigned attributes such as a timestamp): the caller then lets pyHanko sign.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

# The digest the template is built for: any value works, as long as it occurs once in the signed attributes.
_PLACEHOLDER = hashlib.sha256(b"bizportal: the message digest of a prepared signature container").digest()

_SEQUENCE, _SET, _OCTET_STRING, _CONTEXT_0 = 0x30, 0x31, 0x04, 0xA0


@dataclass(frozen=True)
class PreparedContainer:
    """The parts of one signer's CMS container around the two values that differ per document."""

    md_algorithm: str
    content_type: bytes  # ContentInfo's contentType (the OID, encoded)
    signed_data_head: bytes  # SignedData's fields before signerInfos: version, digest algorithms, content, certs
    signer_info_head: bytes  # SignerInfo's fields before signedAttrs: version, sid, digest algorithm
    attributes_head: bytes  # the signed attributes' encoding (as a SET) up to the message digest's value
    attributes_tail: bytes  # ... and after it
    signature_algorithm: bytes  # SignerInfo's signatureAlgorithm

    @classmethod
    async def prepare(cls, signer: signers.Signer, md_algorithm: str) -> PreparedContainer | None:
        """The prepared container of `signer`, or None when pyHanko's container is not of the plain B-B shape."""
        template = await signer.async_sign(
            _PLACEHOLDER, md_algorithm, use_pades=True,
            # PAdES leaves the signing time out of the CMS (it is the signature dictionary's /M).
            signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC)))
        encoded = template.dump()
        try:
            prepared, signature = cls._split(md_algorithm, encoded)
        except ValueError:
            return None
        # What the reassembly gives for the placeholder must be pyHanko's container, byte for byte.
        if prepared._assemble(prepared._attributes(_PLACEHOLDER), signature) != encoded:
            return None
        return prepared

    async def container(self, signer: signers.Signer, document_digest: bytes) -> bytes:
        """The DER-encoded ContentInfo by `signer` (the one it was prepared for: the caller keeps them together,
        and this holds no reference to it) over `document_digest`, the digest of the PDF's byte range."""
        if len(document_digest) != len(_PLACEHOLDER):
            raise ValueError(f"a {self.md_algorithm} digest has {len(_PLACEHOLDER)} bytes, not {len(document_digest)}")
        attributes = self._attributes(document_digest)
        # The signature covers the attributes encoded as a SET (RFC 5652 5.4), as pyHanko signs them.
        signature = await signer.async_sign_raw(attributes, self.md_algorithm)
        return self._assemble(attributes, signature)

    def _attributes(self, digest: bytes) -> bytes:
        return self.attributes_head + digest + self.attributes_tail

    def _assemble(self, attributes: bytes, signature: bytes) -> bytes:
        signer_info = _der(_SEQUENCE, self.signer_info_head
                           + bytes([_CONTEXT_0]) + attributes[1:]  # [0] IMPLICIT: the SET retagged
                           + self.signature_algorithm + _der(_OCTET_STRING, signature))
        signed_data = _der(_SEQUENCE, self.signed_data_head + _der(_SET, signer_info))
        return _der(_SEQUENCE, self.content_type + _der(_CONTEXT_0, signed_data))

    @classmethod
    def _split(cls, md_algorithm: str, encoded: bytes) -> tuple[PreparedContainer, bytes]:
        """The parts of pyHanko's container and its signature. Raises ValueError for any other shape."""
        content_type, explicit = _fields(_content(encoded, _SEQUENCE), 2)
        signed_data = _fields(_content(_content(explicit, _CONTEXT_0), _SEQUENCE))
        signer_infos = _fields(_content(signed_data[-1], _SET), 1)
        fields = _fields(_content(signer_infos[0], _SEQUENCE), 6)  # no unsignedAttrs
        version, sid, digest_algorithm, attributes, signature_algorithm, signature = fields
        if attributes[0] != _CONTEXT_0 or signature[0] != _OCTET_STRING:
            raise ValueError("not a SignerInfo with signed attributes")
        as_set = bytes([_SET]) + attributes[1:]
        if as_set.count(_PLACEHOLDER) != 1:
            raise ValueError("the message digest is not found once in the signed attributes")
        head, tail = as_set.split(_PLACEHOLDER)
        prepared = cls(md_algorithm=md_algorithm, content_type=content_type,
                       signed_data_head=b"".join(signed_data[:-1]), signer_info_head=version + sid + digest_algorithm,
                       attributes_head=head, attributes_tail=tail, signature_algorithm=signature_algorithm)
        return prepared, _content(signature, _OCTET_STRING)


def _der(tag: int, content: bytes) -> bytes:
    """A DER element of a one-byte `tag` (definite length, in the shortest form DER requires)."""
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def _element(data: bytes, offset: int) -> tuple[int, int]:
    """The start of the content and the end of the DER element at `offset` (one-byte tags, definite lengths)."""
    if offset + 2 > len(data) or data[offset] & 0x1F == 0x1F:
        raise ValueError("truncated element or multi-byte tag")
    first = data[offset + 1]
    if first < 0x80:
        start, length = offset + 2, first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise ValueError("indefinite or oversized length")
        start, length = offset + 2 + count, int.from_bytes(data[offset + 2:offset + 2 + count], "big")
    if start + length > len(data):
        raise ValueError("truncated element")
    return start, start + length


def _content(element: bytes, tag: int) -> bytes:
    """The content of `element`, which must be one whole element tagged `tag`."""
    if not element or element[0] != tag:
        raise ValueError(f"expected tag {tag:#x}")
    start, end = _element(element, 0)
    if end != len(element):
        raise ValueError("trailing bytes after an element")
    return element[start:end]


def _fields(content: bytes, count: int | None = None) -> list[bytes]:
    """The whole elements, one after the other, that make up `content` (`count` of them, if given)."""
    fields, offset = [], 0
    while offset < len(content):
        _, end = _element(content, offset)
        fields.append(content[offset:end])
        offset = end
    if count is not None and len(fields) != count:
        raise ValueError(f"expected {count} fields, found {len(fields)}")
    return fields
