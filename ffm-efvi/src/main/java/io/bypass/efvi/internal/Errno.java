package io.bypass.efvi.internal;

import io.bypass.spi.PrivilegeNeeds;
import io.bypass.spi.Privileges;

import java.util.List;

/**
 * Names for the negative errno values ef_vi and the shim return (ef_vi reports errors as
 * return values, never through errno).
 */
public final class Errno {
    private Errno() {
    }

    /**
     * @param rc a negative errno, as ef_vi returns
     * @return such as {@code "ENOENT (No such file or directory)"}
     */
    static String describe(final int rc) {
        final int e = -rc;
        return switch (e) {
            case 1 -> "EPERM (Operation not permitted)";
            case 2 -> "ENOENT (No such file or directory)";
            case 5 -> "EIO (Input/output error)";
            case 11 -> "EAGAIN (Resource temporarily unavailable)";
            case 12 -> "ENOMEM (Cannot allocate memory)";
            case 13 -> "EACCES (Permission denied)";
            case 16 -> "EBUSY (Device or resource busy)";
            case 17 -> "EEXIST (File exists)";
            case 19 -> "ENODEV (No such device)";
            case 22 -> "EINVAL (Invalid argument)";
            case 28 -> "ENOSPC (No space left on device)";
            case 38 -> "ENOSYS (Function not implemented)";
            case 61 -> "ENODATA (No data available)";
            case 71 -> "EPROTO (Protocol error)";
            case 93 -> "EPROTONOSUPPORT (Protocol not supported)";
            case 95 -> "EOPNOTSUPP (Operation not supported)";
            default -> "errno " + e;
        };
    }

    /**
     * What an efvi port needs, from Onload's documentation (not measured: no Solarflare NIC here):
     * CAP_NET_RAW, and its packet buffers pinned (CAP_IPC_LOCK or RLIMIT_MEMLOCK).
     */
    public static final PrivilegeNeeds NEEDS = new PrivilegeNeeds(List.of(Privileges.CAP_NET_RAW), PrivilegeNeeds.UNKNOWN_BYTES,
        "from Onload's documentation, not measured here (no Solarflare NIC): ef_vi pins its packet buffers (buffers=N of"
        + " 2 KiB); the kernel-side tap counting malformed frames needs CAP_NET_RAW too");

    /**
     * @param rc a negative errno
     * @return what the user can do about it, or an empty string
     */
    static String remedy(final int rc) {
        return switch (-rc) {
            case 1, 13 -> "; " + Privileges.capabilityRemedy("efvi", NEEDS);
            case 2, 19 -> "; load Onload's drivers (onload_tool reload) and check the interface is a Solarflare/AMD NIC";
            case 12 -> "; raise the locked-memory limit (ulimit -l) or use fewer buffers (buffers=...)";
            case 16, 28 -> "; the NIC is out of VIs or filters: close other ef_vi/Onload users of this interface";
            default -> "";
        };
    }
}
