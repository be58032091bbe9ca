"""Instance store: an m5d's NVMe instance-store disk is inside the instance, and a stop erases it."""
from __future__ import annotations

import re

from conftest import console_until, launch, state_of, wait_states

STORE = "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_"

# The user-data writes to the disk and leaves a per-boot script that reports, at every later
# boot, how many of the disk's first MiB are not zero.
USER_DATA = f"""#!/bin/sh
d=$(ls {STORE}* | head -1)
echo "store: ${{d##*/}} -> $(readlink -f $d) bytes=$(blockdev --getsize64 $d)"
printf 'instance-store-data' | dd of=$d conv=notrunc,fsync 2>/dev/null
echo "nonzero now: $(head -c 1048576 $d | tr -d '\\000' | wc -c)"
mkdir -p /var/lib/cloud/scripts/per-boot
cat > /var/lib/cloud/scripts/per-boot/store <<'EOF'
#!/bin/sh
d=$(ls {STORE}* | head -1)
echo "nonzero at boot: $(head -c 1048576 $d | tr -d '\\000' | wc -c)"
EOF
chmod 755 /var/lib/cloud/scripts/per-boot/store
"""


def test_m5d_instance_store_is_nvme_and_a_stop_erases_it(ec2, al2023):
    iid = launch(ec2, al2023, InstanceType="m5d.large", UserData=USER_DATA)
    text = console_until(ec2, iid, "nonzero now:")
    store = re.search(r"store: (\S+) -> (\S+) bytes=(\d+)", text)
    assert store.group(1).startswith("nvme-Amazon_EC2_NVMe_Instance_Storage_AWS")
    assert store.group(2) == "/dev/nvme1n1", "the root is nvme0n1, instance storage comes next"
    assert int(store.group(3)) == 75 * 10**9, "m5d.large: one 75 GB disk (DescribeInstanceTypes)"
    assert "nonzero now: 19" in text
    wait_states(lambda: state_of(ec2, iid), "running")
    ec2.stop_instances(InstanceIds=[iid])
    wait_states(lambda: state_of(ec2, iid), "stopped")
    ec2.start_instances(InstanceIds=[iid])
    assert "nonzero at boot: 0" in console_until(ec2, iid, "nonzero at boot:")
    ec2.terminate_instances(InstanceIds=[iid])


def test_a_type_without_instance_storage_has_none(ec2, al2023):
    iid = launch(ec2, al2023, InstanceType="m5.large",
                 UserData=f"#!/bin/sh\necho \"stores: $(ls {STORE}* 2>/dev/null | wc -l)\"\n")
    assert "stores: 0" in console_until(ec2, iid, "stores:")
    ec2.terminate_instances(InstanceIds=[iid])
