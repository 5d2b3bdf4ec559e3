import Benchmark
import MattingKit

func registerCodecBenchmarks() {
}
