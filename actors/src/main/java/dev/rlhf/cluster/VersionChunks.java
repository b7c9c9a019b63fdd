package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.proto.v1.WeightChunk;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * One weight version cut into the chunks it travels in (see weight_sync.proto): each chunk carries the version, the
 * whole file's SHA-256 and its own. The chunks share the file's bytes rather than copying them.
 *
 * @param sha256 the SHA-256 of the whole file
 * @param chunks in index order
 */
record VersionChunks(long version, ByteString sha256, List<WeightChunk> chunks) {

    VersionChunks {
        chunks = List.copyOf(chunks);
    }

    /**
     * @param file the version's safetensors file
     * @param chunkBytes the length of every chunk but the last
     */
    static VersionChunks of(long version, ByteString file, int chunkBytes) {
        if (file.isEmpty()) {
            throw new IllegalArgumentException("a weight version must have at least one byte");
        }
        ByteString fileSha = sha256(file);
        List<WeightChunk> chunks = new ArrayList<>();
        for (int offset = 0, index = 0; offset < file.size(); offset += chunkBytes, index++) {
            ByteString data = file.substring(offset, Math.min(file.size(), offset + chunkBytes));
            chunks.add(WeightChunk.newBuilder()
                    .setVersion(version)
                    .setVersionSha256(fileSha)
                    .setTotalBytes(file.size())
                    .setChunkBytes(chunkBytes)
                    .setIndex(index)
                    .setData(data)
                    .setSha256(sha256(data))
                    .build());
        }
        return new VersionChunks(version, fileSha, chunks);
    }

    /** The bytes of the whole version. */
    long totalBytes() {
        return chunks.get(0).getTotalBytes();
    }

    /** The SHA-256 digest of {@code bytes}, 32 bytes. */
    static ByteString sha256(ByteString bytes) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        digest.update(bytes.asReadOnlyByteBuffer());
        return ByteString.copyFrom(digest.digest());
    }
}
