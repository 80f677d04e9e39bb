"""The platform's own signature on the documents it issues: PAdES with pyHanko.

Signing comes last (after rendering and any merge) as an incremental update, so the signature
covers every byte before it; changing any of them breaks it. The key and certificate are
configured by the administrator (``SIGNING_KEY_PATH``, ``SIGNING_CERT_PATH``,
``SIGNING_KEY_PASSPHRASE``); development and tests, when none is configured, use a self-signed
test key generated on first use into ``instance/signing/`` (production refuses).
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app

TEST_KEY = "test-signing-key.pem"
TEST_CERT = "test-signing-cert.pem"
FIELD_NAME = "InsermPlatform"

_signers: dict[tuple, object] = {}


#: Bytes reserved in the PDF for the CMS signature: the certificate (and its chain, for a key
#: issued by a certification authority) with the signature itself; 16 KB leaves ample room.
SIGNATURE_BYTES = 16_384


class SigningNotConfigured(RuntimeError):
    """No signing key is configured where a test key is not allowed."""


@dataclass(frozen=True)
class SignatureCheck:
    """What pyHanko says about the platform's signature in a PDF."""

    present: bool
    intact: bool = False  # the signed bytes are unchanged
    valid: bool = False  # the cryptographic signature checks
    trusted: bool = False  # made by the platform's certificate
    covers_whole_file: bool = False
    signer: str = ""
    signed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.present and self.intact and self.valid and self.trusted and self.covers_whole_file


def self_signed(common_name: str, organization: str, days: int = 3650):
    """A new RSA key and its self-signed certificate, able to sign documents (PAdES)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _test_material(folder: Path) -> tuple[Path, Path, bytes]:
    """The self-signed development key, generated once (under a lock: several workers may ask)."""
    from cryptography.hazmat.primitives import serialization

    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / TEST_KEY, folder / TEST_CERT
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (key_path.exists() and cert_path.exists()):
            key, cert = self_signed("Inserm calls platform (TEST KEY)", "Inserm - development only")
            for path, data in (
                (
                    key_path,
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                ),
                (cert_path, cert.public_bytes(serialization.Encoding.PEM)),
            ):
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.chmod(0o600)
                os.replace(tmp, path)
    return key_path, cert_path, b""


def signing_material() -> tuple[Path, Path, bytes]:
    """(key path, certificate path, passphrase) from the settings, or the test key."""
    cfg = current_app.config
    if cfg.get("SIGNING_KEY_PATH") and cfg.get("SIGNING_CERT_PATH"):
        passphrase = (cfg.get("SIGNING_KEY_PASSPHRASE") or "").encode()
        return Path(cfg["SIGNING_KEY_PATH"]), Path(cfg["SIGNING_CERT_PATH"]), passphrase
    if not cfg.get("SIGNING_TEST_KEY_ALLOWED", False):
        raise SigningNotConfigured(
            "No signing key is configured: set SIGNING_KEY_PATH and SIGNING_CERT_PATH "
            "(and SIGNING_KEY_PASSPHRASE if the key is encrypted)."
        )
    return _test_material(Path(current_app.instance_path) / "signing")


def _frozen(value):
    """``value`` read back from its own DER: an asn1crypto structure that encodes in one pass.

    asn1crypto marks a structure built from Python values as changed for good, and encodes it
    again each time it or a structure holding it is encoded, two or three times per level: the
    signing-certificate-v2 attribute, eight levels deep, was encoded about 40 times per letter.
    A structure read from DER keeps its bytes. Same bytes either way (DER has one encoding).
    """
    return value.__class__.load(value.dump())


class _KeptAttribute:
    """Wraps a pyHanko attribute provider whose attribute never changes: built and encoded once."""

    def __init__(self, provider):
        self.provider = provider
        self.attribute = None

    async def get_attribute(self, dry_run=False):
        if self.attribute is None:
            self.attribute = _frozen(await self.provider.get_attribute(dry_run=dry_run))
        return self.attribute


class _FrozenAttribute:
    """Wraps a pyHanko attribute provider so that its attribute is encoded once."""

    def __init__(self, provider):
        self.provider = provider

    async def get_attribute(self, dry_run=False):
        attribute = await self.provider.get_attribute(dry_run=dry_run)
        return None if attribute is None else _frozen(attribute)


def _kept_key_signer_class():
    """pyHanko's SimpleSigner, keeping what does not change from one signature to the next.

    - SimpleSigner turns its key into a `cryptography` key again for every signature, and that
      load checks the whole RSA key: most of the cost of signing a letter. The key is loaded and
      checked once, when the signer is made (`_signer` keeps signers by key file).
    - The signing-certificate-v2 attribute (the certificate's hash, its issuer and serial) is
      the same for every signature: it is built and encoded once.
    - The signed attributes and the SignerInfo are frozen (`_frozen`) as they are made, so the
      CMS structure around them is encoded once rather than once per enclosing level.
    """
    from pyhanko.sign import signers
    from pyhanko.sign.attributes import SigningCertificateV2Provider

    class KeptKeySigner(signers.SimpleSigner):
        _pyca_key = None
        _kept_attributes: dict

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
            from pyhanko_certvalidator.util import get_pyca_cryptography_hash

            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                algorithm = mechanism.signature_algo
            except ValueError:
                algorithm = mechanism["algorithm"].native
            if algorithm != "rsassa_pkcs1v15":
                return super().sign_raw(data, digest_algorithm)
            if self._pyca_key is None:
                self._pyca_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            return self._pyca_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))

        def _signed_attr_providers(self, *args, **kwargs):
            kept = self.__dict__.setdefault("_kept_attributes", {})
            for provider in super()._signed_attr_providers(*args, **kwargs):
                constant = type(provider) is SigningCertificateV2Provider
                if constant and provider.signing_cert is self.signing_cert:
                    if provider.attribute_type not in kept:
                        kept[provider.attribute_type] = _KeptAttribute(provider)
                    yield kept[provider.attribute_type]
                else:
                    yield _FrozenAttribute(provider)

        async def signed_attrs(self, *args, **kwargs):
            return _frozen(await super().signed_attrs(*args, **kwargs))

        def signer_info(self, digest_algorithm, signed_attrs, signature):
            return _frozen(super().signer_info(digest_algorithm, signed_attrs, signature))

    return KeptKeySigner


def _signer():
    from pyhanko.sign import signers

    key_path, cert_path, passphrase = signing_material()
    marker = (str(key_path), str(cert_path), key_path.stat().st_mtime_ns, cert_path.stat().st_mtime_ns)
    if marker not in _signers:
        signer = signers.SimpleSigner.load(str(key_path), str(cert_path), key_passphrase=passphrase or None)
        if signer is None:
            raise SigningNotConfigured("The signing key or certificate could not be read.")
        signer.__class__ = _kept_key_signer_class()
        _signers.clear()
        _signers[marker] = signer
    return _signers[marker]


def _off_the_event_loop(fn):
    """Run ``fn`` here, or in a helper thread when this thread already runs an event loop.

    pyHanko's synchronous API calls ``asyncio.run``, which refuses to start inside a running loop
    (an async server, or a test session driving a browser). ``fn`` must not need the app context.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def signer_name() -> str:
    """The subject of the platform's certificate, as shown on the verification page."""
    return _signer().signing_cert.subject.human_friendly


def sign_pdf(pdf: bytes, *, reason: str, location: str = "Paris") -> bytes:
    """Apply the platform's PAdES signature to ``pdf`` (an incremental update: sign last)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason[:200],
        location=location,
    )
    signer = _signer()
    # Room for the signature set aside at once: without it pyHanko signs twice (a dry run to
    # measure the signature, then the real one).
    return _off_the_event_loop(
        lambda: signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=SIGNATURE_BYTES).getvalue()
    )


def check_signature(pdf: bytes) -> SignatureCheck:
    """Validate the platform's signature in ``pdf`` against the platform's certificate.

    Anything unreadable counts as "no valid signature": this runs on uploaded files.
    """
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    if not pdf.startswith(b"%PDF"):
        return SignatureCheck(present=False)
    try:
        _key, cert_path, _ = signing_material()
        context = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))])
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
        if not signatures:
            return SignatureCheck(present=False)
        status = _off_the_event_loop(lambda: validate_pdf_signature(signatures[-1], context))
    except SigningNotConfigured:
        raise
    except Exception:  # noqa: BLE001 - a damaged upload is a failed check, not an error page
        return SignatureCheck(present=True)
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    return SignatureCheck(
        present=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly if status.signing_cert else "",
        signed_at=status.signer_reported_dt,
    )
