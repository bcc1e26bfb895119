package io.bypass.samples.pcap;

/**
 * A capture file that is not pcap or pcapng, or is corrupt; the message gives the byte
 * offset and what was found.
 */
public final class PcapFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what is wrong and where
     */
    public PcapFormatException(final String message) {
        super(message);
    }
}
