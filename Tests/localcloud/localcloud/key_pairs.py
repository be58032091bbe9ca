"""Key pair fingerprints as EC2 computes them (moto's differ), applied once at import.

AWS, "Verify the fingerprint of your key pair"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/verify-keys.html), and KeyPairInfo.KeyFingerprint
in the EC2 API reference:
- ED25519, created or imported: the base64-encoded SHA-256 digest, OpenSSH's default since 6.8
  (of the public key blob, as `ssh-keygen -l` prints it); "Amazon EC2 might append padding to the
  fingerprint with = characters", and it does: 44 characters.
- RSA imported: MD5 of the DER-encoded public key (`openssl rsa -pubout -outform DER | openssl md5 -c`),
  colon-separated hex.
- RSA created by EC2: SHA-1 of the DER-encoded private key in PKCS#8
  (`openssl pkcs8 -topk8 -nocrypt -outform DER | openssl sha1 -c`), colon-separated hex.
moto 5.2.1 gives ED25519 keys a colon-hex SHA-256 of the DER public key and EC2-created RSA keys a
SHA-1 of the public key.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from moto.ec2.models.key_pairs import KeyPair


def _colons(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ec2_fingerprint(public_openssh: bytes, private_pem: bytes = b"") -> str:
    """The fingerprint EC2 shows for a key pair: its OpenSSH public line, and the private key in
    PEM when EC2 made the pair (CreateKeyPair), empty when it was imported."""
    public = serialization.load_ssh_public_key(public_openssh)
    if isinstance(public, Ed25519PublicKey):
        blob = base64.b64decode(public_openssh.split()[1])
        return base64.b64encode(hashlib.sha256(blob).digest()).decode()
    if private_pem:
        private = serialization.load_pem_private_key(private_pem, password=None)
        der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return _colons(hashlib.sha1(der).digest())
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _colons(hashlib.md5(der).digest())


_original_init = KeyPair.__init__


def _init(self, *args, **kwargs) -> None:
    _original_init(self, *args, **kwargs)
    public = self.material_public if isinstance(self.material_public, bytes) else self.material_public.encode()
    private = self.material if isinstance(self.material, bytes) else (self.material or "").encode()
    self.key_fingerprint = ec2_fingerprint(public, private)


KeyPair.__init__ = _init
