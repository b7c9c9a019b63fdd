package dev.rlhf.cluster;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import dev.rlhf.policy.DeviceChoice;

/** The tensors of a node that runs a model (rollout, reward): its device and its PyTorch threads. */
final class NodeDevice {
    private NodeDevice() {}

    /** A base manager on {@code rlhf.device}, libtorch set to {@code rlhf.cluster.worker.intra-op-threads}. */
    static NDManager manager(Config config, ClusterSettings cluster) {
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(cluster.workerIntraOpThreads());
        return NDManager.newBaseManager(DeviceChoice.parse(config.getString("rlhf.device")).resolve());
    }
}
