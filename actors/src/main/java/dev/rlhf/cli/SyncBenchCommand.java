package dev.rlhf.cli;

import com.google.gson.GsonBuilder;
import dev.rlhf.cluster.WeightSyncBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf bench sync}: bytes and seconds to publish one policy weight version to a cluster node. */
@Command(name = "sync", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench sync --layers 4 --d-model 128 --vocab 768 --syncs 5",
            "  ./rlhf bench sync --layers 12 --d-model 768 --heads 12 --vocab 50257"},
        description = "Weight sync over gRPC on loopback (random weights): take the tensors out, encode them in "
                + "chunks with their SHA-256 digests, send them to a node that checks, decodes and loads them; "
                + "prints JSON with the bytes and the seconds of each step.")
final class SyncBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--syncs", defaultValue = "3", description = "Timed versions after an untimed one (default 3).")
    private int syncs;

    @Option(names = "--chunk-bytes", defaultValue = "1048576",
            description = "Chunk size, as rlhf.cluster.weight-chunk-bytes (default 1 MiB).")
    private int chunkBytes;

    @Override
    public Integer call() throws Exception {
        System.out.println(new GsonBuilder().disableHtmlEscaping().create()
                .toJson(WeightSyncBenchmark.run(shape.shape(), syncs, chunkBytes)));
        return 0;
    }
}
