"""Key pair fingerprints as EC2 shows them (localcloud/key_pairs.py): base64 SHA-256 for ED25519,
MD5 of the DER public key for imported RSA, SHA-1 of the PKCS#8 private key for EC2-created RSA.
Each expected value comes from OpenSSH or OpenSSL, as AWS's "Verify the fingerprint of your key
pair" computes it."""
from __future__ import annotations

import subprocess

from conftest import client

from localcloud.key_pairs import ec2_fingerprint


def keygen(tmp_path, kind: str):
    key = tmp_path / kind
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *(["-b", "2048"] if kind == "rsa" else []), "-N", "",
                    "-f", str(key)], check=True)
    return key


def ssh_keygen_sha256(path) -> str:
    """`ssh-keygen -l` prints SHA256:<base64 without padding>; EC2 pads it with '='."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(path)], capture_output=True, text=True,
                         check=True).stdout
    digest = out.split()[1].removeprefix("SHA256:")
    return digest + "=" * (-len(digest) % 4)


def openssl_colons(*pipeline: list[str], data: bytes) -> str:
    for command in pipeline:
        data = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    return data.decode().split("= ")[-1].strip()


def test_ed25519_is_the_padded_base64_sha256_ssh_keygen_prints(tmp_path):
    key = keygen(tmp_path, "ed25519")
    fingerprint = ec2_fingerprint(key.with_suffix(".pub").read_bytes())
    assert fingerprint == ssh_keygen_sha256(key.with_suffix(".pub"))
    assert len(fingerprint) == 44 and fingerprint.endswith("=")


def test_imported_rsa_is_md5_of_the_der_public_key(tmp_path):
    key = keygen(tmp_path, "rsa")
    pkcs8 = subprocess.run(["ssh-keygen", "-e", "-m", "PKCS8", "-f", str(key.with_suffix(".pub"))],
                           capture_output=True, check=True).stdout
    expected = openssl_colons(["openssl", "pkey", "-pubin", "-outform", "DER"], ["openssl", "md5", "-c"], data=pkcs8)
    assert ec2_fingerprint(key.with_suffix(".pub").read_bytes()) == expected
    assert len(expected.split(":")) == 16


def test_cloud_answers_ec2s_fingerprints_for_imported_and_created_pairs(endpoint, tmp_path):
    ec2 = client(endpoint, "ec2")
    ed = keygen(tmp_path, "ed25519")
    rsa = keygen(tmp_path, "rsa")
    name = tmp_path.name[-40:]
    imported_ed = ec2.import_key_pair(KeyName=f"ed-{name}", PublicKeyMaterial=ed.with_suffix(".pub").read_bytes())
    assert imported_ed["KeyFingerprint"] == ssh_keygen_sha256(ed.with_suffix(".pub"))
    imported_rsa = ec2.import_key_pair(KeyName=f"rsa-{name}", PublicKeyMaterial=rsa.with_suffix(".pub").read_bytes())
    assert imported_rsa["KeyFingerprint"] == ec2_fingerprint(rsa.with_suffix(".pub").read_bytes())
    listed = {p["KeyName"]: p["KeyFingerprint"]
              for p in ec2.describe_key_pairs(KeyNames=[f"ed-{name}", f"rsa-{name}"])["KeyPairs"]}
    assert listed == {f"ed-{name}": imported_ed["KeyFingerprint"], f"rsa-{name}": imported_rsa["KeyFingerprint"]}

    # Made by EC2: ED25519 is still the SHA-256 of the public key; RSA is the SHA-1 of the private key.
    made_ed = ec2.create_key_pair(KeyName=f"made-ed-{name}", KeyType="ed25519")
    private = tmp_path / "made-ed"
    private.write_text(made_ed["KeyMaterial"])
    private.chmod(0o600)
    assert made_ed["KeyFingerprint"] == ssh_keygen_sha256(private)
    made_rsa = ec2.create_key_pair(KeyName=f"made-rsa-{name}", KeyType="rsa")
    expected = openssl_colons(["openssl", "pkcs8", "-topk8", "-nocrypt", "-outform", "DER"], ["openssl", "sha1", "-c"],
                              data=made_rsa["KeyMaterial"].encode())
    assert made_rsa["KeyFingerprint"] == expected and len(expected.split(":")) == 20
    for key in ("ed", "rsa", "made-ed", "made-rsa"):
        ec2.delete_key_pair(KeyName=f"{key}-{name}")
