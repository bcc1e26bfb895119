package io.bypass.spi;

import io.bypass.BypassException;

/**
 * The exceptions that hot-path classes (queues, claims, ports) throw, built here so those
 * classes' constant pools hold no {@code String}.
 *
 * <p>Why: before C2 compiles a method, HotSpot resolves every string constant of the
 * method's class (the requesting thread interns them: {@code ConstantPool::resolve_string_constants}
 * in {@code CompileBroker::compile_method}). A message literal or string-concatenation
 * recipe in a queue class is therefore allocated on the polling thread the first time one of
 * the class's methods goes to C2, which may be long after warm-up: after a deoptimisation, or
 * when a loaded machine delays compilation. Here it costs nothing until an error is thrown.
 * {@code HotPathClassesTest} checks that the hot-path classes keep no string constant.
 */
public final class HotPathErrors {
    private HotPathErrors() {
    }

    /**
     * @param length the length asked for
     * @param max    the largest allowed
     * @return the exception for a claim or send longer than the queue allows
     */
    public static IllegalArgumentException frameLength(final int length, final int max) {
        return new IllegalArgumentException("frame length " + length + " outside 0.." + max);
    }

    /**
     * @param length the length asked for
     * @return the exception for a negative claim or send length
     */
    public static IllegalArgumentException negativeLength(final int length) {
        return new IllegalArgumentException("negative length " + length);
    }

    /**
     * @param limit the limit passed to poll
     * @return the exception for a poll limit below 1
     */
    public static IllegalArgumentException pollLimit(final int limit) {
        return new IllegalArgumentException("limit " + limit + " < 1");
    }

    /**
     * @param what what is claimed ("frame", "datagram")
     * @return the exception for a commit or abort with nothing claimed
     */
    public static IllegalStateException notClaimed(final String what) {
        return new IllegalStateException("no " + what + " claimed");
    }

    /**
     * @param actual  the length committed
     * @param claimed the length claimed
     * @return the exception for a commit longer than the claim or negative
     */
    public static IllegalArgumentException commitLength(final int actual, final int claimed) {
        return new IllegalArgumentException("commit length " + actual + " outside 0.." + claimed);
    }

    /**
     * @param backend the backend's name
     * @param uri     the port's URI
     * @return the exception a closed port's queues throw
     */
    public static BypassException closed(final String backend, final Object uri) {
        return new BypassException(backend + ": port " + uri + " is closed");
    }

    /**
     * @param backend the backend's name
     * @param uri     the port's URI
     * @param rx      true for an RX queue, false for TX
     * @param id      the id asked for
     * @param count   the port's number of such queues
     * @return the exception for a queue id out of range
     */
    public static IllegalArgumentException noSuchQueue(final String backend, final Object uri, final boolean rx,
                                                       final int id, final int count) {
        return new IllegalArgumentException(backend + ": " + (rx ? "RX" : "TX") + " queue " + id + " outside 0.."
            + (count - 1) + " of port " + uri);
    }

    /**
     * @param version the IGMP version asked for
     * @return the exception for an IGMP version other than 2 and 3
     */
    public static IllegalArgumentException igmpVersion(final int version) {
        return new IllegalArgumentException("IGMP version " + version + " is neither 2 nor 3");
    }

    /**
     * @return the exception for a datagram claim while the previous one is neither committed nor aborted
     */
    public static IllegalStateException claimOutstanding() {
        return new IllegalStateException("the previous datagram claim is neither committed nor aborted");
    }

    /**
     * @param token the token a commit or abort gave
     * @return the exception for a commit or abort of a claim that is not the outstanding one
     */
    public static IllegalStateException notOutstanding(final long token) {
        return new IllegalStateException("datagram claim " + token + " is not the outstanding one");
    }
}
