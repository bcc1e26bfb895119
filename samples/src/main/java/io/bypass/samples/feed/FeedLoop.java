package io.bypass.samples.feed;

import io.bypass.threads.HiccupRecorder;
import io.bypass.udp.DutyCycle;
import io.bypass.udp.UdpEndpoint;
import org.agrona.concurrent.IdleStrategy;

/**
 * One turn of the feed handler's polling loop: poll the line(s), record the gap since the
 * last poll, look for gaps that timed out, idle if nothing came. {@code bypass feed} turns it
 * live, and {@link FeedWarmUp} turns one of the same class over synthetic packets before the
 * open ({@link UdpEndpoint#warmUpDutyCycle}), so every branch of it that live packets take is
 * compiled before the first one comes.
 */
public final class FeedLoop implements DutyCycle {
    private final UdpEndpoint udp;
    private final UdpEndpoint udpB;
    private final FeedHandler handler;
    private final Arbitrator arbitrator;
    private final int batch;
    private final IdleStrategy idle;
    private final HiccupRecorder pollGaps;
    private long lastPollNanos;
    private long firstPacketNanos;

    /**
     * @param udp        the endpoint of both lines, or of the A line when {@code udpB} is given
     * @param udpB       the B line's own endpoint, or null
     * @param handler    where datagrams go
     * @param arbitrator the handler's arbitrator, whose gap timeouts each turn checks
     * @param batch      datagrams per poll
     * @param idle       what a turn that received nothing does
     * @param pollGaps   records the time between polls
     */
    public FeedLoop(final UdpEndpoint udp, final UdpEndpoint udpB, final FeedHandler handler, final Arbitrator arbitrator,
                    final int batch, final IdleStrategy idle, final HiccupRecorder pollGaps) {
        this.udp = udp;
        this.udpB = udpB;
        this.handler = handler;
        this.arbitrator = arbitrator;
        this.batch = batch;
        this.idle = idle;
        this.pollGaps = pollGaps;
    }

    /** {@inheritDoc} */
    @Override
    public int doWork() {
        int n;
        if (udpB == null) {
            n = udp.poll(handler, batch);
        } else {
            handler.fixLine(0);
            n = udp.poll(handler, batch);
            handler.fixLine(1);
            n += udpB.poll(handler, batch);
        }
        final long now = System.nanoTime();
        lastPollNanos = now;
        pollGaps.onPoll(now);
        if (n > 0 && firstPacketNanos == 0) {
            firstPacketNanos = now;
        }
        arbitrator.checkGaps(now);
        idle.idle(n);
        return n;
    }

    /** For a warm-up: forgets the first packet's time, so every turn takes that branch. */
    void forgetFirstPacket() {
        firstPacketNanos = 0;
    }

    /** @return {@link System#nanoTime()} at the last turn's poll */
    public long lastPollNanos() {
        return lastPollNanos;
    }

    /** @return when the first turn that received anything polled, 0 before */
    public long firstPacketNanos() {
        return firstPacketNanos;
    }
}
