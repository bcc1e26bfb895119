package io.bypass.net;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over an IGMPv3 membership report (RFC 3376 section 4.2): an 8-byte header
 * followed by group records, each with its sources and auxiliary data. Reads and writes
 * in place, no allocation.
 *
 * <pre>{@code
 * report.wrap(frame, ipPayloadOffset, capacity).header(0);
 * report.appendRecord(IgmpV3Report.CHANGE_TO_EXCLUDE_MODE, group);   // join, any source
 * report.computeChecksum();                                          // over encodedLength()
 * }</pre>
 */
public final class IgmpV3Report {
    /** Header length: type, reserved, checksum, reserved, number of group records. */
    public static final int HEADER_LENGTH = 8;
    /** Length of a group record without sources or auxiliary data. */
    public static final int RECORD_HEADER_LENGTH = 8;
    /** Current-state record: INCLUDE mode. */
    public static final int MODE_IS_INCLUDE = 1;
    /** Current-state record: EXCLUDE mode (an empty EXCLUDE list is a plain join). */
    public static final int MODE_IS_EXCLUDE = 2;
    /** Filter-mode-change record: to INCLUDE (with no sources: leave). */
    public static final int CHANGE_TO_INCLUDE_MODE = 3;
    /** Filter-mode-change record: to EXCLUDE (with no sources: join). */
    public static final int CHANGE_TO_EXCLUDE_MODE = 4;
    /** Source-list-change record: allow new sources. */
    public static final int ALLOW_NEW_SOURCES = 5;
    /** Source-list-change record: block old sources. */
    public static final int BLOCK_OLD_SOURCES = 6;

    /** Offset of the number of group records. */
    public static final int NUMBER_OF_RECORDS_OFFSET = 6;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutableBuffer;
    private int offset;
    private int length;
    private int writeLimit;

    /** Creates a flyweight wrapping nothing. */
    public IgmpV3Report() {
    }

    /**
     * Wraps a report for reading.
     *
     * @param buffer the buffer
     * @param offset where the report starts
     * @param length report length (the IPv4 payload length)
     * @return this
     */
    public IgmpV3Report wrap(final DirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        this.writeLimit = length;
        return this;
    }

    /**
     * Wraps room for a report to write.
     *
     * @param buffer the buffer
     * @param offset where the report starts
     * @param length room available
     * @return this
     */
    public IgmpV3Report wrap(final MutableDirectBuffer buffer, final int offset, final int length) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = length;
        this.writeLimit = length;
        return this;
    }

    /** @return message type: {@link Igmp#TYPE_V3_MEMBERSHIP_REPORT} */
    public int type() {
        return buffer.getByte(offset) & 0xFF;
    }

    /** @return the stored checksum */
    public int checksum() {
        return buffer.getShort(offset + Igmp.CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** @return number of group records */
    public int numberOfGroupRecords() {
        return buffer.getShort(offset + NUMBER_OF_RECORDS_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @return bytes the header and every record take, or -1 if the records run past
     *         the wrapped length
     */
    public int encodedLength() {
        if (length < HEADER_LENGTH) {
            return -1;
        }
        int position = HEADER_LENGTH;
        final int n = numberOfGroupRecords();
        for (int i = 0; i < n; i++) {
            if (position + RECORD_HEADER_LENGTH > length) {
                return -1;
            }
            position += recordLengthAt(position);
            if (position > length) {
                return -1;
            }
        }
        return position;
    }

    /** @return true if every record fits the wrapped length and the checksum verifies */
    public boolean isWellFormed() {
        return encodedLength() >= 0 && Checksums.igmp(buffer, offset, length) == 0;
    }

    private int recordLengthAt(final int position) {
        final int auxWords = buffer.getByte(offset + position + 1) & 0xFF;
        final int sources = buffer.getShort(offset + position + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        return RECORD_HEADER_LENGTH + (sources << 2) + (auxWords << 2);
    }

    /**
     * Position of a record, relative to the report's start; walks the records before it.
     * Check {@link #encodedLength()} first on received reports.
     *
     * @param index record index, below {@link #numberOfGroupRecords()}
     * @return offset of that record from the report's start
     */
    public int recordPosition(final int index) {
        int position = HEADER_LENGTH;
        for (int i = 0; i < index; i++) {
            position += recordLengthAt(position);
        }
        return position;
    }

    /**
     * @param index record index
     * @return record type, such as {@link #CHANGE_TO_EXCLUDE_MODE}
     */
    public int recordType(final int index) {
        return buffer.getByte(offset + recordPosition(index)) & 0xFF;
    }

    /**
     * @param index record index
     * @return the record's multicast address
     */
    public int recordGroup(final int index) {
        return buffer.getInt(offset + recordPosition(index) + 4, ByteOrder.BIG_ENDIAN);
    }

    /**
     * @param index record index
     * @return number of sources in the record
     */
    public int recordNumberOfSources(final int index) {
        return buffer.getShort(offset + recordPosition(index) + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /**
     * @param index  record index
     * @param source source index
     * @return that source address
     */
    public int recordSource(final int index, final int source) {
        return buffer.getInt(offset + recordPosition(index) + RECORD_HEADER_LENGTH + (source << 2), ByteOrder.BIG_ENDIAN);
    }

    /**
     * Starts a report: writes the header with no records yet.
     *
     * @param reserved value of the second reserved field, normally 0
     * @return this
     */
    public IgmpV3Report header(final int reserved) {
        mutableBuffer.putByte(offset, (byte) Igmp.TYPE_V3_MEMBERSHIP_REPORT);
        mutableBuffer.putByte(offset + 1, (byte) 0);
        mutableBuffer.putShort(offset + Igmp.CHECKSUM_OFFSET, (short) 0);
        mutableBuffer.putShort(offset + 4, (short) reserved, ByteOrder.BIG_ENDIAN);
        mutableBuffer.putShort(offset + NUMBER_OF_RECORDS_OFFSET, (short) 0);
        writeLimit = HEADER_LENGTH;
        return this;
    }

    /**
     * Appends a record without sources or auxiliary data and counts it in the header.
     *
     * @param recordType such as {@link #CHANGE_TO_EXCLUDE_MODE}
     * @param group      multicast address
     * @return the report's length so far, or -1 if the record did not fit
     */
    public int appendRecord(final int recordType, final int group) {
        if (writeLimit + RECORD_HEADER_LENGTH > length) {
            return -1;
        }
        final int at = offset + writeLimit;
        mutableBuffer.putByte(at, (byte) recordType);
        mutableBuffer.putByte(at + 1, (byte) 0);
        mutableBuffer.putShort(at + 2, (short) 0);
        mutableBuffer.putInt(at + 4, group, ByteOrder.BIG_ENDIAN);
        writeLimit += RECORD_HEADER_LENGTH;
        final int n = numberOfGroupRecords() + 1;
        mutableBuffer.putShort(offset + NUMBER_OF_RECORDS_OFFSET, (short) n, ByteOrder.BIG_ENDIAN);
        return writeLimit;
    }

    /** @return bytes written so far by {@link #header(int)} and {@link #appendRecord(int, int)} */
    public int writtenLength() {
        return writeLimit;
    }

    /**
     * Computes the checksum over the bytes written so far and stores it.
     *
     * @return this
     */
    public IgmpV3Report computeChecksum() {
        mutableBuffer.putShort(offset + Igmp.CHECKSUM_OFFSET, (short) 0);
        mutableBuffer.putShort(offset + Igmp.CHECKSUM_OFFSET, (short) Checksums.igmp(buffer, offset, writeLimit), ByteOrder.BIG_ENDIAN);
        return this;
    }
}
