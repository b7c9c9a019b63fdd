package dev.rlhf.cli;

import com.google.gson.Gson;
import dev.rlhf.serve.ServeBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf bench serve}: gRPC serving throughput and latency with random weights over loopback. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench serve"},
        description = "gRPC Generate throughput and latency at several client concurrencies (random weights, "
                + "token-id prompts, temperature 1, no EOS); prints JSON.")
final class ServeBenchCommand implements Callable<Integer> {
    @Mixin private BenchShapeOptions shape;

    @Option(names = "--concurrency", split = ",", defaultValue = "1,8,32",
            description = "Client concurrency levels, comma-separated (default 1,8,32).")
    private int[] concurrencies;

    @Override
    public Integer call() throws Exception {
        System.out.println(new Gson().toJson(ServeBenchmark.run(shape.shape(), concurrencies)));
        return 0;
    }
}
