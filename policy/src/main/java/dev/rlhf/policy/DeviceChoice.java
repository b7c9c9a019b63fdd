package dev.rlhf.policy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/** The {@code rlhf.device} setting: {@code auto}, {@code cpu} or {@code gpu}. */
public enum DeviceChoice {
    AUTO,
    CPU,
    GPU;

    /**
     * Parses a setting value.
     *
     * @throws IllegalArgumentException for anything but auto, cpu or gpu
     */
    public static DeviceChoice parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rlhf.device must be auto, cpu or gpu but was " + value, e);
        }
    }

    /**
     * The device to put tensors on.
     *
     * @throws IllegalStateException if {@code gpu} is asked for and the engine sees none
     */
    public Device resolve() {
        int gpus = Engine.getInstance().getGpuCount();
        return switch (this) {
            case CPU -> Device.cpu();
            case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
            case GPU -> {
                if (gpus == 0) {
                    throw new IllegalStateException(
                            "rlhf.device = gpu but PyTorch sees no GPU (build with -Pgpu for the CUDA libtorch)");
                }
                yield Device.gpu();
            }
        };
    }
}
