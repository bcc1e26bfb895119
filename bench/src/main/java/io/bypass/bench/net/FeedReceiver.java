package io.bypass.bench.net;

import io.bypass.samples.cli.GroupPort;
import io.bypass.samples.codec.MoldUdp64;
import io.bypass.samples.feed.Arbitrator;
import io.bypass.samples.feed.FeedHandler;
import io.bypass.udp.DatagramHandler;
import io.bypass.udp.DatagramMeta;
import io.bypass.udp.UdpEndpoint;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The Java receiver of the zeroloss scenario ({@code JavaWorker mode=feed api=udp}): a
 * {@link UdpEndpoint} joined to a multicast group, and per datagram the samples' feed
 * handler ({@link FeedHandler}: MoldUDP64 validation, session check; {@link Arbitrator}:
 * sequence numbers, gaps, loss at the tail from the end-of-session packet). Each trial is
 * one MoldUDP64 session: a datagram of another session starts a new trial (a new handler,
 * allocated between trials, never per packet). A trial's figures are printed as
 * {@code TRIAL {json}} at its end of session, or after {@code idle_gap_ms} without a
 * datagram if none came; the same fields and timing as the C baselines' feed mode
 * ({@code native/bench/bench_common.h}).
 */
final class FeedReceiver implements DatagramHandler {
    private static final Arbitrator.MessageHandler IGNORE_MESSAGES = (b, o, l, s, r) -> { };
    private static final Arbitrator.GapListener IGNORE_GAPS = (f, t, l) -> { };

    private final UdpEndpoint endpoint;
    private final GroupPort group;
    private final int batch;
    private final long idleGapNs;
    private final long durationNs;
    private final BooleanSupplier stopping;

    private FeedHandler handler;
    private long sessionHead;
    private short sessionTail;
    private boolean haveSession;
    private long last;
    private boolean dirty;
    private boolean eosPrinted;
    private long trials;
    private long eosPackets;

    /**
     * @param endpoint   an open endpoint on the device under test
     * @param group      multicast group and port of the feed
     * @param batch      most datagrams per poll
     * @param idleGapMs  a trial without end of session is printed after this long without a datagram
     * @param durationMs the receiver stops after this long
     * @param stopping   true once the harness asked the worker to stop
     */
    FeedReceiver(final UdpEndpoint endpoint, final GroupPort group, final int batch, final long idleGapMs, final long durationMs,
                 final BooleanSupplier stopping) {
        this.endpoint = endpoint;
        this.group = group;
        this.batch = batch;
        this.idleGapNs = idleGapMs * 1_000_000L;
        this.durationNs = durationMs * 1_000_000L;
        this.stopping = stopping;
        this.handler = newHandler();
    }

    private FeedHandler newHandler() {
        final FeedHandler h = new FeedHandler(new Arbitrator(1, IGNORE_MESSAGES, IGNORE_GAPS), group, null);
        h.fixLine(0); // one line; the endpoint only delivers the joined group's port
        return h;
    }

    /**
     * Joins the group, prints READY, and receives until stopped or the duration is over.
     *
     * @return trials ended by an end of session
     */
    long run() {
        endpoint.join(group.address(), group.port());
        JavaWorker.ready();
        final long start = System.nanoTime();
        while (!stopping.getAsBoolean()) {
            final int n = endpoint.poll(this, batch);
            final long now = System.nanoTime();
            if (n > 0 && haveSession) {
                last = now;
                dirty = true;
                if (!handler.arbitrator().endOfSession(0)) {
                    eosPrinted = false;
                } else if (!eosPrinted) {
                    print();
                    eosPrinted = true;
                    dirty = false;
                    trials++;
                }
            } else if (dirty && now - last > idleGapNs) {
                if (!eosPrinted) {
                    print();
                }
                dirty = false;
            } else if (n == 0 && now - start > durationNs) {
                break;
            }
        }
        return trials;
    }

    @Override
    public void onDatagram(final DirectBuffer buffer, final int offset, final int length, final DatagramMeta meta) {
        if (length >= MoldUdp64.HEADER_LENGTH) {
            final int count = buffer.getShort(offset + MoldUdp64.COUNT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            final long head = buffer.getLong(offset);
            final short tail = buffer.getShort(offset + 8);
            if (count != 0 && count != MoldUdp64.END_OF_SESSION && (!haveSession || head != sessionHead || tail != sessionTail)) {
                if (haveSession) {
                    handler = newHandler(); // a new trial: once per trial, not per packet
                }
                haveSession = true;
                sessionHead = head;
                sessionTail = tail;
                eosPrinted = false;
                eosPackets = 0;
            } else if (count == MoldUdp64.END_OF_SESSION) {
                eosPackets++;
            }
        }
        handler.onDatagram(buffer, offset, length, meta);
    }

    private void print() {
        final Arbitrator a = handler.arbitrator();
        final byte[] s = new byte[MoldUdp64.SESSION_LENGTH];
        final java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(s).order(ByteOrder.nativeOrder());
        bb.putLong(sessionHead).putShort(sessionTail);
        final StringBuilder session = new StringBuilder();
        for (final byte b : s) {
            session.append(b >= 0x21 && b < 0x7f && b != '"' && b != '\\' ? (char) b : '_');
        }
        // packets: message-carrying packets, as the C side counts them (end of session and heartbeats excluded)
        System.out.println(String.format(Locale.ROOT,
            "TRIAL {\"session\":\"%s\",\"eos\":%d,\"packets\":%d,\"messages\":%d,\"highest\":%d,\"gaps\":%d,\"lost\":%d,"
                + "\"duplicates\":%d,\"malformed\":%d,\"foreign\":%d,\"session_mismatch\":%d}",
            session, a.endOfSession(0) ? 1 : 0, a.packets() - a.heartbeats() - eosPackets, a.messages(), a.nextSequence() - 1,
            a.gaps(), a.lost(), a.duplicates(), handler.malformed(), handler.foreign(), handler.sessionMismatch()));
        System.out.flush();
    }
}
