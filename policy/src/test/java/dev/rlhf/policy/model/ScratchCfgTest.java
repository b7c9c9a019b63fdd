package dev.rlhf.policy.model;
import org.junit.jupiter.api.Test;
class ScratchCfgTest {
    @Test void run() throws Exception {
        ai.djl.engine.Engine.getInstance();
        Class<?> c = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
        java.lang.reflect.Field f = c.getDeclaredField("LIB"); f.setAccessible(true);
        Object lib = f.get(null);
        java.lang.reflect.Method mm = c.getDeclaredMethod("torchShowConfig", java.util.Set.class); mm.setAccessible(true);
        java.util.Set<String> s = new java.util.HashSet<>();
        mm.invoke(lib, s);
        System.out.println(s);
    }
}
