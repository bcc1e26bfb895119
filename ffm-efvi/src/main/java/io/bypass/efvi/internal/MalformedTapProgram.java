package io.bypass.efvi.internal;

import io.bypass.Counter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the classic BPF socket filter of one {@link MalformedTap} socket: it accepts the
 * frames for our flows that an ef_vi {@code ip4_local} UDP filter cannot match, and so go to
 * the kernel, broken in the way its socket counts. The complement of what the NIC steers, by
 * construction: a frame with a sound IPv4 header, no fragment bits and a readable UDP port
 * is never accepted here (the VI gets it if it is ours, and the protocol layer counts it).
 *
 * <p>Categories, in the FrameClassifier's order, and how each is known to be ours (the same
 * rule as afxdp's XDP program, without its record of first fragments):
 * <ul>
 *   <li>IPv4 header shorter than 20 bytes: {@link Counter#DROP_TRUNCATED}, when the
 *       destination MAC is that of a group we steer (a unicast MAC is the host's).</li>
 *   <li>Protocol UDP, version not 4, IHL below 5 or beyond the frame:
 *       {@link Counter#DROP_BAD_IP_HEADER}, when the destination is an address of our flows.</li>
 *   <li>A fragment (MF or an offset): {@link Counter#DROP_BAD_IP_LENGTH} if its total length
 *       is wrong, else {@link Counter#DROP_IP_FRAGMENT}; a first fragment whose port can be
 *       read is ours when (address, port) is one of our flows, any other fragment when its
 *       destination is a group we steer.</li>
 *   <li>Not a fragment, UDP port not in the frame: {@link Counter#DROP_BAD_IP_LENGTH} if the
 *       total length is wrong, else {@link Counter#DROP_TRUNCATED}, by address.</li>
 * </ul>
 * Frames the kernel sent (PACKET_OUTGOING) or that are for another MAC (PACKET_OTHERHOST) are
 * never accepted. An accepted frame is cut to one byte: the socket only counts it.
 */
final class MalformedTapProgram {
    /** The reasons, one tap socket each. */
    static final Counter[] REASONS = {
        Counter.DROP_TRUNCATED, Counter.DROP_BAD_IP_HEADER, Counter.DROP_BAD_IP_LENGTH, Counter.DROP_IP_FRAGMENT,
    };
    /** The kernel's limit on a classic program (BPF_MAXINSNS). */
    static final int MAX_INSTRUCTIONS = 4096;

    // Opcodes (linux/filter.h).
    private static final int LD_W_ABS = 0x20;
    private static final int LD_H_ABS = 0x28;
    private static final int LD_B_ABS = 0x30;
    private static final int LD_H_IND = 0x48;
    private static final int LD_W_LEN = 0x80;
    private static final int LDX_B_MSH = 0xb1;
    private static final int ALU_ADD_K = 0x04;
    private static final int ALU_SUB_K = 0x14;
    private static final int ALU_AND_K = 0x54;
    private static final int JA = 0x05;
    private static final int JEQ_K = 0x15;
    private static final int JGE_K = 0x35;
    private static final int JSET_K = 0x45;
    private static final int JGT_X = 0x2d;
    private static final int JGE_X = 0x3d;
    private static final int RET_K = 0x06;
    private static final int TAX = 0x07;
    private static final int TXA = 0x87;
    /** SKF_AD_OFF + SKF_AD_PKTTYPE: the skb's packet type. */
    private static final int PKTTYPE = 0xfffff000 + 4;
    private static final int PACKET_OTHERHOST = 3;
    private static final int PACKET_OUTGOING = 4;

    private final List<long[]> code = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Object[]> fixups = new ArrayList<>();

    private MalformedTapProgram() {
    }

    /**
     * The program for one reason.
     *
     * @param reason    one of {@link #REASONS}
     * @param addresses every address of our flows (groups and our unicast address), as numbers
     * @param flows     our flows, {@code (address << 16) | port}
     * @return the instructions, {@code {code, jt, jf, k}} each
     */
    static int[][] build(final Counter reason, final Set<Integer> addresses, final Set<Long> flows) {
        final MalformedTapProgram p = new MalformedTapProgram();
        p.emit(reason, addresses, flows);
        return p.assemble();
    }

    private void emit(final Counter reason, final Set<Integer> addresses, final Set<Long> flows) {
        op(LD_W_ABS, PKTTYPE);
        jump(JEQ_K, PACKET_OTHERHOST, "reject", null);
        jump(JEQ_K, PACKET_OUTGOING, "reject", null);
        op(LD_H_ABS, 12);
        jump(JEQ_K, 0x0800, null, "reject");
        op(LD_W_LEN, 0);
        jump(JGE_K, 14 + 20, "header", null);
        verdict(reason, Counter.DROP_TRUNCATED, "groupMacs");

        label("header");
        op(LD_B_ABS, 14 + 9);
        jump(JEQ_K, 17, null, "reject");
        op(LD_B_ABS, 14);
        op(ALU_AND_K, 0xf0);
        jump(JEQ_K, 0x40, null, "badHeader");
        op(LDX_B_MSH, 14);
        op(TXA, 0);
        jump(JGE_K, 20, null, "badHeader");
        op(ALU_ADD_K, 14);
        op(TAX, 0);
        op(LD_W_LEN, 0);
        jump(JGE_X, 0, null, "badHeader");
        // a sound header: total length between IHL*4 and what the frame holds
        op(LDX_B_MSH, 14);
        op(LD_H_ABS, 14 + 2);
        jump(JGE_X, 0, null, "badLength");
        op(LD_W_LEN, 0);
        op(ALU_SUB_K, 14);
        op(TAX, 0);
        op(LD_H_ABS, 14 + 2);
        jump(JGT_X, 0, "badLength", null);
        op(LD_H_ABS, 14 + 6);
        jump(JSET_K, 0x3fff, "fragment", null);
        portsReadable("reject");
        verdict(reason, Counter.DROP_TRUNCATED, "addresses");

        label("badHeader");
        verdict(reason, Counter.DROP_BAD_IP_HEADER, "addresses");

        label("badLength");
        op(LD_H_ABS, 14 + 6);
        jump(JSET_K, 0x3fff, "badLengthFragment", null);
        portsReadable("reject");
        verdict(reason, Counter.DROP_BAD_IP_LENGTH, "addresses");
        label("badLengthFragment");
        verdict(reason, Counter.DROP_BAD_IP_LENGTH, "fragments");

        label("fragment");
        verdict(reason, Counter.DROP_IP_FRAGMENT, "fragments");

        label("reject");
        op(RET_K, 0);

        // Attribution blocks, reached with ja. Each list entry accepts on its own, so no
        // conditional jump goes further than two instructions.
        label("fragments");
        op(LD_H_ABS, 14 + 6);
        op(ALU_AND_K, 0x1fff);
        jump(JEQ_K, 0, null, "groupsFar");
        portsReadable("firstFragment");
        label("groupsFar");
        jumpAlways("groups");
        label("firstFragment");
        op(LDX_B_MSH, 14);
        for (final long flow : flows) {
            // ld daddr; if != a skip 3; ldh dport; if != p skip 1; accept
            op(LD_W_ABS, 14 + 16);
            raw(JEQ_K, 0, 3, (int) (flow >>> 16));
            op(LD_H_IND, 14 + 2);
            raw(JEQ_K, 0, 1, (int) (flow & 0xFFFF));
            op(RET_K, 1);
        }
        op(RET_K, 0);

        label("addresses");
        op(LD_W_ABS, 14 + 16);
        for (final int a : addresses) {
            accept(a);
        }
        op(RET_K, 0);

        label("groups");
        op(LD_W_ABS, 14 + 16);
        for (final int a : addresses) {
            if ((a >>> 28) == 0xE) {
                accept(a);
            }
        }
        op(RET_K, 0);

        label("groupMacs");
        op(LD_H_ABS, 0);
        raw(JEQ_K, 1, 0, 0x0100);
        op(RET_K, 0);
        op(LD_B_ABS, 2);
        raw(JEQ_K, 1, 0, 0x5e);
        op(RET_K, 0);
        op(LD_W_ABS, 2);
        op(ALU_AND_K, 0x7f_ffff);
        for (final int a : addresses) {
            if ((a >>> 28) == 0xE) {
                accept(a & 0x7f_ffff);
            }
        }
        op(RET_K, 0);
    }

    /** Jumps to {@code ifReadable} when the UDP ports are in the frame (14 + IHL*4 + 4 bytes), else falls through. */
    private void portsReadable(final String ifReadable) {
        op(LDX_B_MSH, 14);
        op(TXA, 0);
        op(ALU_ADD_K, 14 + 4);
        op(TAX, 0);
        op(LD_W_LEN, 0);
        jump(JGE_X, 0, ifReadable, null);
    }

    /** The frame is broken in way {@code found}: counted by the socket for {@code reason} only, then attributed. */
    private void verdict(final Counter reason, final Counter found, final String attribution) {
        if (reason == found) {
            jumpAlways(attribution);
        } else {
            op(RET_K, 0);
        }
    }

    private void accept(final int value) {
        raw(JEQ_K, 0, 1, value);
        op(RET_K, 1);
    }

    private void op(final int opcode, final int k) {
        raw(opcode, 0, 0, k);
    }

    private void raw(final int opcode, final int jt, final int jf, final int k) {
        code.add(new long[] {opcode, jt, jf, k & 0xFFFF_FFFFL});
    }

    /** A conditional jump to labels (null: the next instruction). */
    private void jump(final int opcode, final int k, final String ifTrue, final String ifFalse) {
        fixups.add(new Object[] {code.size(), ifTrue, ifFalse});
        raw(opcode, 0, 0, k);
    }

    private void jumpAlways(final String target) {
        fixups.add(new Object[] {code.size(), target, null});
        raw(JA, 0, 0, 0);
    }

    private void label(final String name) {
        labels.put(name, code.size());
    }

    private int[][] assemble() {
        for (final Object[] f : fixups) {
            final int at = (Integer) f[0];
            final long[] insn = code.get(at);
            if (insn[0] == JA) {
                insn[3] = offset(at, (String) f[1], Integer.MAX_VALUE);
            } else {
                insn[1] = f[1] == null ? 0 : offset(at, (String) f[1], 255);
                insn[2] = f[2] == null ? 0 : offset(at, (String) f[2], 255);
            }
        }
        final int[][] out = new int[code.size()][];
        for (int i = 0; i < out.length; i++) {
            final long[] insn = code.get(i);
            out[i] = new int[] {(int) insn[0], (int) insn[1], (int) insn[2], (int) insn[3]};
        }
        return out;
    }

    private int offset(final int from, final String label, final int max) {
        final Integer to = labels.get(label);
        if (to == null || to <= from || to - from - 1 > max) {
            throw new IllegalStateException("bad jump from " + from + " to " + label + " (" + to + ")");
        }
        return to - from - 1;
    }
}
