/// A convolution node bound to a kernel object built (and its weights packed) at compile time.
struct ConvolutionOperator: CompiledOperator {
    let kernel: ConvolutionKernel
    let batch: Int, inputHeight: Int, inputWidth: Int
    let scratchByteCount: Int

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        kernel.run(input: io.input(0), batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                   output: io.output(0), scratch: io.scratch, threads: pool)
    }
}

/// A transposed convolution node bound to its kernel object.
struct TransposedConvolutionOperator: CompiledOperator {
    let kernel: TransposedConvolutionKernel
    let batch: Int, inputHeight: Int, inputWidth: Int
    let scratchByteCount: Int

    func execute(_ io: OperatorIO, pool: ThreadPool) {
        kernel.run(input: io.input(0), batch: batch, inputHeight: inputHeight, inputWidth: inputWidth,
                   output: io.output(0), scratch: io.scratch, threads: pool)
    }
}
