package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.BitSet;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's side of weight sync (see weight_sync.proto): gathers a version's chunks across SyncWeights calls, rejects
 * a chunk whose bytes do not match its digest, refuses stale versions, and gives the version's file only once every
 * chunk is there and the whole file matches the version's digest. Remembers the version the node applied last.
 * Thread-safe.
 *
 * <p>Versions must not go backwards within one coordinator's run, yet a node process serves run after run and each
 * new run starts again from version 0. The floor therefore lives as long as the assembly, which lives as long as its
 * node: a node leaves the cluster when its coordinator has gone ({@link CoordinatorWatch}) and the process starts a
 * fresh node, with a fresh assembly holding no version, for the next coordinator. Two coordinators in one cluster at
 * once are not supported: the second's version 0 would be refused while the first's floor holds.
 */
final class WeightsAssembly {
    private static final Logger LOG = LoggerFactory.getLogger(WeightsAssembly.class);
    private static final int SHA256_BYTES = 32;

    /** A version whose file is complete and matches its digest. */
    record Complete(long version, ByteString sha256, ByteString file) {}

    /** The chunks gathered so far of one version. */
    private static final class Pending {
        final long version;
        final ByteString sha256;
        final int chunkBytes;
        final int chunkCount;
        final byte[] file;
        final BitSet received;

        Pending(WeightChunk first) {
            version = first.getVersion();
            sha256 = first.getVersionSha256();
            chunkBytes = first.getChunkBytes();
            chunkCount = chunkCount(first);
            file = new byte[(int) first.getTotalBytes()];
            received = new BitSet(chunkCount);
        }

        boolean sameVersionAs(WeightChunk chunk) {
            return chunk.getVersion() == version && chunk.getVersionSha256().equals(sha256)
                    && chunk.getTotalBytes() == file.length && chunk.getChunkBytes() == chunkBytes;
        }
    }

    private final long maxBytes;
    private long heldVersion = -1;
    private ByteString heldSha256 = ByteString.EMPTY;
    private Pending pending;

    /** @param maxBytes the largest version accepted (rlhf.cluster.max-weights-bytes) */
    WeightsAssembly(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * Takes one chunk in. A chunk of another version, or of the same version with another digest, than the one
     * being gathered starts that version afresh.
     *
     * @return false if the chunk was rejected because its bytes do not match its sha256 (it stays missing)
     * @throws StatusRuntimeException INVALID_ARGUMENT naming the field for a malformed chunk; FAILED_PRECONDITION for
     *     a version older than the one held or being gathered
     */
    synchronized boolean accept(WeightChunk chunk) {
        check(chunk);
        requireNotOlder(chunk.getVersion());
        if (pending == null || !pending.sameVersionAs(chunk)) {
            if (pending != null) {
                LOG.info("dropping the {} chunks held of weights v{}: chunks of v{} (digest {}) came",
                        pending.received.cardinality(), pending.version, chunk.getVersion(),
                        hex(chunk.getVersionSha256()));
            }
            pending = new Pending(chunk);
        }
        if (!VersionChunks.sha256(chunk.getData()).equals(chunk.getSha256())) {
            LOG.warn("rejected chunk {} of weights v{}: its bytes do not match its sha256", chunk.getIndex(),
                    chunk.getVersion());
            return false;
        }
        chunk.getData().copyTo(pending.file, (int) ((long) chunk.getIndex() * pending.chunkBytes));
        pending.received.set(chunk.getIndex());
        return true;
    }

    /**
     * The version being gathered, if every chunk is there and the whole file matches its digest; it is no longer
     * pending then. A file that does not match although each chunk did loses every chunk (all are fetched again).
     */
    synchronized Optional<Complete> complete() {
        if (pending == null || pending.received.cardinality() < pending.chunkCount) {
            return Optional.empty();
        }
        ByteString file = UnsafeByteOperations.unsafeWrap(pending.file); // no one writes it once it is complete
        if (!VersionChunks.sha256(file).equals(pending.sha256)) {
            LOG.warn("weights v{}: every chunk matched its own digest but the file does not match the version's; "
                    + "fetching every chunk again", pending.version);
            pending.received.clear();
            return Optional.empty();
        }
        Complete complete = new Complete(pending.version, pending.sha256, file);
        pending = null;
        return Optional.of(complete);
    }

    /**
     * Records that the node now uses {@code complete}.
     *
     * @throws StatusRuntimeException FAILED_PRECONDITION if a newer version was applied meanwhile
     */
    synchronized void applied(Complete complete) {
        requireNotOlder(complete.version());
        heldVersion = complete.version();
        heldSha256 = complete.sha256();
    }

    /** What the node holds, with the chunks of the pending version it still misses. */
    synchronized WeightSyncStatus status(int rejectedChunks) {
        WeightSyncStatus.Builder status = WeightSyncStatus.newBuilder()
                .setVersion(heldVersion)
                .setSha256(heldSha256)
                .setPendingVersion(pending == null ? -1 : pending.version)
                .setRejectedChunks(rejectedChunks);
        if (pending != null) {
            for (int i = pending.received.nextClearBit(0); i < pending.chunkCount;
                    i = pending.received.nextClearBit(i + 1)) {
                status.addMissingChunks(i);
            }
        }
        return status.build();
    }

    private void requireNotOlder(long version) {
        long floor = Math.max(heldVersion, pending == null ? -1 : pending.version);
        if (version < floor) {
            throw Status.FAILED_PRECONDITION.withDescription("version " + version + " is older than version " + floor
                    + " this node already holds" + (floor == heldVersion ? "" : " chunks of")
                    + "; weight versions must not go backwards").asRuntimeException();
        }
    }

    private void check(WeightChunk chunk) {
        if (chunk.getVersion() < 0) {
            throw invalid("version must not be negative but was " + chunk.getVersion());
        }
        if (chunk.getVersionSha256().size() != SHA256_BYTES) {
            throw invalid("version_sha256 must be the " + SHA256_BYTES + "-byte SHA-256 of the version's file but has "
                    + chunk.getVersionSha256().size() + " bytes");
        }
        if (chunk.getTotalBytes() < 1 || chunk.getTotalBytes() > maxBytes) {
            throw invalid("total_bytes must be in [1, " + maxBytes + "] (rlhf.cluster.max-weights-bytes) but was "
                    + chunk.getTotalBytes());
        }
        if (chunk.getChunkBytes() < 1) {
            throw invalid("chunk_bytes must be positive but was " + chunk.getChunkBytes());
        }
        int count = chunkCount(chunk);
        if (chunk.getIndex() < 0 || chunk.getIndex() >= count) {
            throw invalid("index must be in [0, " + count + ") but was " + chunk.getIndex());
        }
        long offset = (long) chunk.getIndex() * chunk.getChunkBytes();
        long expected = Math.min(chunk.getChunkBytes(), chunk.getTotalBytes() - offset);
        if (chunk.getData().size() != expected) {
            throw invalid("data of chunk " + chunk.getIndex() + " must hold " + expected + " bytes but holds "
                    + chunk.getData().size());
        }
        if (chunk.getSha256().size() != SHA256_BYTES) {
            throw invalid("sha256 must be the " + SHA256_BYTES + "-byte SHA-256 of data but has "
                    + chunk.getSha256().size() + " bytes");
        }
    }

    private static int chunkCount(WeightChunk chunk) {
        return (int) ((chunk.getTotalBytes() + chunk.getChunkBytes() - 1) / chunk.getChunkBytes());
    }

    private static String hex(ByteString bytes) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.min(4, bytes.size()); i++) {
            out.append(String.format("%02x", bytes.byteAt(i)));
        }
        return out.append("…").toString();
    }

    private static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }
}
