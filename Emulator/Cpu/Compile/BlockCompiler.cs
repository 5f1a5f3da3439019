using System.Reflection;
using System.Reflection.Emit;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Execute;

namespace Emulator.Cpu.Compile;

/// <summary>
/// A hot block compiled to IL, bound to its <see cref="Block"/>: runs the whole block exactly as
/// the interpreter loop would (the caller guarantees an instruction budget of at least the
/// block's length) and returns how many micro-ops of the last pass it ran (low 16 bits) and the
/// last handler's result (<see cref="Exec"/>, bits 16 and up). 0 ops means the block looped on
/// itself and its last pass was already retired and counted (see <see cref="Cpu.JitLoopBack"/>).
/// </summary>
public delegate int CompiledBlock(Cpu cpu);

/// <summary>
/// Compiles hot blocks into <see cref="DynamicMethod"/>s (the <c>--jit on</c> option).
///
/// The compiled method is the interpreter loop unrolled for one block: for each micro-op its
/// handler (the handler method is found from the micro-op's function pointer): the hottest
/// ones as their field form (the overload beside the handler that takes the op's fields instead
/// of the op, and which the handler itself calls) with the fields as constants (inlined, once
/// the block is very hot), the rest called through the pointer with the micro-op passed by
/// reference from the block's array; then the tests the loop makes after every instruction that can fire: the handler's
/// result; <see cref="Cpu.ExitRequested"/> except after handlers that never set it (register
/// moves and arithmetic: no memory, port or system access); in the cycle mode the slice's
/// cycle limit against the block's static-cost prefix sum (a constant here). The instruction
/// budget is not tested: the CPU runs a compiled block only when the whole block fits its
/// budget (see <see cref="Cpu"/>.ExecuteBlock). So retirement, faults (EIP and the pending
/// exception are set by the handlers and the caller exactly as for the interpreter), cycle
/// charges and the points where a slice ends are the interpreter's: the compiled form
/// changes speed, not results.
///
/// A block whose last instruction jumps back to its own start (a loop in one block) loops
/// inside the compiled code: at the jump it retires and charges the pass as the caller would
/// and asks <see cref="Cpu.JitLoopBack"/> whether the CPU loop would do anything but enter
/// this block again with a budget that holds it (an interrupt, NMI, debug trap, breakpoint,
/// slice end, the block invalidated); if not, it starts the next pass without leaving.
///
/// Self-modifying code: a compiled block belongs to its <see cref="Block"/>, which a write to
/// its code invalidates like any decoded block; the writer leaves the block through
/// <see cref="Cpu.ExitRequested"/> as in the interpreter.
/// </summary>
public static class BlockCompiler
{
    private static readonly Type[] HandlerParameters = [typeof(Cpu), typeof(MicroOp).MakeByRefType()];

    private static readonly FieldInfo ExitRequestedField = typeof(Cpu).GetField(nameof(Cpu.ExitRequested))!;

    private static readonly FieldInfo CyclesField = typeof(Cpu).GetField(nameof(Cpu.Cycles))!;

    private static readonly FieldInfo EipField = typeof(Cpu).GetField(nameof(Cpu.Eip))!;

    private static readonly FieldInfo SliceLimitField = typeof(Cpu).GetField("_sliceLimit", BindingFlags.Instance | BindingFlags.NonPublic)!;

    private static readonly MethodInfo OpsGetter = typeof(Block).GetProperty(nameof(Block.Ops))!.GetGetMethod()!;

    private static readonly MethodInfo LoopBack = typeof(Cpu).GetMethod(nameof(Cpu.JitLoopBack), BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!;

    private static readonly Lazy<Dictionary<nint, MethodInfo>> HandlerMap = new(FindHandlers);

    /// <summary>
    /// Handlers that never set <see cref="Cpu.ExitRequested"/> (nor end the slice): they touch
    /// only registers and the lazy flags, so the compiled block skips the test after them.
    /// </summary>
    private static readonly HashSet<(string Type, string Method)> NoExitHandlers =
    [
        ("DataMove", "MovRR"), ("DataMove", "MovRI"), ("DataMove", "Lea32"), ("DataMove", "Lea16"),
        ("Alu", "RR"), ("Alu", "RI"), ("Alu", "UnaryR"),
        ("Shift", "RI"), ("Shift", "RC"),
    ];

    /// <summary>A micro-op field passed to a handler's field form as a constant.</summary>
    private enum Field
    {
        Seg,

        /// <summary>The effective address: <see cref="Operands.Ea(Cpu, int, int, int, uint, bool)"/> with the op's base, index, scale, displacement and address size as constants.</summary>
        Ea,
        Dst,
        Src,
        Imm,
        Cc,
        NextEip,
    }

    private static readonly Field[] Mem = [Field.Seg, Field.Ea];

    /// <summary>
    /// Handlers compiled as their field form: the overload of the same name on the same type that
    /// takes these fields of the op (after the CPU) instead of the op, called with constants.
    /// </summary>
    private static readonly Dictionary<(string Type, string Method), Field[]> Specialised = new()
    {
        [("DataMove", "MovRR")] = [Field.Dst, Field.Src],
        [("DataMove", "MovRI")] = [Field.Dst, Field.Imm],
        [("DataMove", "MovRM")] = [.. Mem, Field.Dst],
        [("DataMove", "MovMR")] = [.. Mem, Field.Src],
        [("DataMove", "MovMI")] = [.. Mem, Field.Imm],
        [("Alu", "RR")] = [Field.Dst, Field.Src],
        [("Alu", "RI")] = [Field.Dst, Field.Imm],
        [("Alu", "RM")] = [.. Mem, Field.Dst],
        [("Alu", "MR")] = [.. Mem, Field.Src],
        [("Alu", "MI")] = [.. Mem, Field.Imm],
        [("Alu", "UnaryR")] = [Field.Dst],
        [("Shift", "RI")] = [Field.Dst, Field.Imm],
        [("Branch", "Jcc")] = [Field.Cc, Field.Imm, Field.NextEip],
        [("Branch", "JmpRel")] = [Field.Imm],
    };

    private static readonly MethodInfo ConstantEa = typeof(Operands).GetMethod(nameof(Operands.Ea), [typeof(Cpu), typeof(int), typeof(int), typeof(int), typeof(uint), typeof(bool)])!;

    /// <summary>The field form of <paramref name="handler"/> (a definition, not instantiated) taking <paramref name="fields"/>, or null.</summary>
    private static MethodInfo? FieldForm(MethodInfo handler, Field[] fields) =>
        handler.DeclaringType!.GetMethods(BindingFlags.Static | BindingFlags.Public)
            .SingleOrDefault(m => m.Name == handler.Name && m.GetParameters().Length == fields.Length + 1 &&
                m.GetParameters()[0].ParameterType == typeof(Cpu) && !m.GetParameters()[1].ParameterType.IsByRef);

    /// <summary>Pushes a field of <paramref name="op"/> as a constant (the effective address as its computation from constants).</summary>
    private static void EmitField(ILGenerator il, in MicroOp op, Field f)
    {
        if (f == Field.Ea)
        {
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4, (int)op.Base);
            il.Emit(OpCodes.Ldc_I4, (int)op.Index);
            il.Emit(OpCodes.Ldc_I4, (int)op.Scale);
            il.Emit(OpCodes.Ldc_I4, unchecked((int)op.Disp));
            il.Emit(OpCodes.Ldc_I4, (op.Flags & OpFlags.Addr16) != 0 ? 1 : 0);
            il.Emit(OpCodes.Call, ConstantEa);
            return;
        }

        il.Emit(OpCodes.Ldc_I4, FieldValue(in op, f));
    }

    private static int FieldValue(in MicroOp op, Field f) => f switch
    {
        Field.Seg => op.Seg,
        Field.Dst => op.Dst,
        Field.Src => op.Src,
        Field.Imm => unchecked((int)op.Imm),
        Field.Cc => op.Cc,
        Field.NextEip => unchecked((int)op.NextEip),
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    /// <summary>Blocks compiled (all CPUs, process-wide).</summary>
    public static long Compiled => _compiled;

    private static long _compiled;

    /// <summary>
    /// Compiles <paramref name="block"/>. <paramref name="statics"/> is the block's cycle-mode
    /// static cost of its first k instructions (<see cref="BlockTiming.Static"/>) or null in the
    /// functional mode.
    /// With <paramref name="kernels"/> the hottest handlers are compiled as their field forms
    /// with constant fields (<c>Specialised</c>): the fastest code, but the JIT's
    /// inlining of them makes a compile cost about 0.2-0.5 ms per such instruction (5-15 ms for a
    /// block of 31) against 0.5-1 ms for the whole block without; so the CPU compiles a hot block
    /// without kernels first and again with them only once it has run many times more.
    /// </summary>
    public static unsafe CompiledBlock Compile(Block block, int[]? statics, bool kernels = true)
    {
        MicroOp[] ops = block.Ops;
        // Bound to the block (a closed delegate over the first argument: called without the
        // argument-shuffling thunk an open static delegate needs).
        var dm = new DynamicMethod("block_" + block.Linear.ToString("x8"), typeof(int),
            [typeof(Block), typeof(Cpu)], typeof(BlockCompiler).Module, skipVisibility: true);
        ILGenerator il = dm.GetILGenerator();
        LocalBuilder result = il.DeclareLocal(typeof(int));
        LocalBuilder count = il.DeclareLocal(typeof(int));
        LocalBuilder opsLocal = il.DeclareLocal(typeof(MicroOp[]));
        Label exit = il.DefineLabel();
        Label top = il.DefineLabel();
        Dictionary<nint, MethodInfo> handlers = HandlerMap.Value;
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, OpsGetter);
        il.Emit(OpCodes.Stloc, opsLocal);
        il.MarkLabel(top);
        for (int k = 0; k < ops.Length; k++)
        {
            nint fn = (nint)ops[k].Fn;
            bool canExit = true;
            MethodInfo? target = handlers.GetValueOrDefault(fn);
            Field[]? fields = null;
            MethodInfo? form = null;
            if (target is not null)
            {
                MethodInfo def = target.IsGenericMethod ? target.GetGenericMethodDefinition() : target;
                var key = (def.DeclaringType!.Name, def.Name);
                canExit = !NoExitHandlers.Contains(key);
                if (kernels && Specialised.TryGetValue(key, out fields))
                {
                    form = FieldForm(def, fields);
                    if (form is { IsGenericMethodDefinition: true })
                    {
                        form = form.MakeGenericMethod(target.GetGenericArguments());
                    }
                }
            }

            il.Emit(OpCodes.Ldarg_1);
            if (form is not null)
            {
                // The handler's field form with the op's fields as constants (inlined).
                foreach (Field f in fields!)
                {
                    EmitField(il, in ops[k], f);
                }

                il.Emit(OpCodes.Call, form);
            }
            else
            {
                il.Emit(OpCodes.Ldloc, opsLocal);
                il.Emit(OpCodes.Ldc_I4, k);
                il.Emit(OpCodes.Ldelema, typeof(MicroOp));
                // Every other handler through its pointer, as the interpreter calls it: a direct
                // call would let the JIT inline it, and inlining the large handlers (string,
                // system, stack ops) made each compile cost 10 ms and more.
                il.Emit(OpCodes.Ldc_I8, (long)fn);
                il.Emit(OpCodes.Conv_I);
                il.EmitCalli(OpCodes.Calli, CallingConventions.Standard, typeof(int), HandlerParameters, null);
            }

            il.Emit(OpCodes.Stloc, result);
            il.Emit(OpCodes.Ldc_I4, k + 1);
            il.Emit(OpCodes.Stloc, count);
            if (k + 1 == ops.Length)
            {
                break;
            }

            // if (r != Exec.Next || cpu.ExitRequested) leave
            il.Emit(OpCodes.Ldloc, result);
            il.Emit(OpCodes.Brtrue, exit);
            if (canExit)
            {
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldfld, ExitRequestedField);
                il.Emit(OpCodes.Brtrue, exit);
            }

            if (statics is not null)
            {
                // if (cpu.Cycles + static cost of ops 0..k >= slice limit) leave
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldfld, CyclesField);
                il.Emit(OpCodes.Ldc_I8, (long)statics[k + 1]);
                il.Emit(OpCodes.Add);
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Ldfld, SliceLimitField);
                il.Emit(OpCodes.Bge, exit);
            }
        }

        if (ops[^1].Imm == block.StartEip)
        {
            // The last instruction may jump back to the block's start (a near JMP or Jcc to it):
            // if (r == Exec.Jump && !cpu.ExitRequested && cpu.Eip == StartEip && cpu.JitLoopBack(block)) goto top
            il.Emit(OpCodes.Ldloc, result);
            il.Emit(OpCodes.Ldc_I4, Exec.Jump);
            il.Emit(OpCodes.Bne_Un, exit);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, ExitRequestedField);
            il.Emit(OpCodes.Brtrue, exit);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, EipField);
            il.Emit(OpCodes.Ldc_I4, unchecked((int)block.StartEip));
            il.Emit(OpCodes.Bne_Un, exit);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, LoopBack);
            il.Emit(OpCodes.Brtrue, top);

            // The pass is retired and counted: report 0 ops.
            il.Emit(OpCodes.Ldc_I4, Exec.Jump << 16);
            il.Emit(OpCodes.Ret);
        }

        il.MarkLabel(exit);
        il.Emit(OpCodes.Ldloc, result);
        il.Emit(OpCodes.Ldc_I4, 16);
        il.Emit(OpCodes.Shl);
        il.Emit(OpCodes.Ldloc, count);
        il.Emit(OpCodes.Or);
        il.Emit(OpCodes.Ret);
        Interlocked.Increment(ref _compiled);
        return (CompiledBlock)dm.CreateDelegate(typeof(CompiledBlock), block);
    }

    /// <summary>
    /// The entries of the handler tables (<c>NoExitHandlers</c>, <c>Specialised</c>) that name no
    /// handler, or no field form: the tables are keyed by name, so a renamed handler would
    /// silently lose its compiled form (same results, slower) unless a test asks this.
    /// </summary>
    internal static IEnumerable<string> UnresolvedTableEntries()
    {
        var named = HandlerMap.Value.Values
            .Select(m => m.IsGenericMethod ? m.GetGenericMethodDefinition() : m)
            .GroupBy(m => (m.DeclaringType!.Name, m.Name))
            .ToDictionary(g => g.Key, g => g.First());
        foreach (var key in NoExitHandlers.Where(k => !named.ContainsKey(k)))
        {
            yield return $"no handler {key.Type}.{key.Method}";
        }

        foreach (var (key, fields) in Specialised)
        {
            if (!named.TryGetValue(key, out MethodInfo? handler))
            {
                yield return $"no handler {key.Type}.{key.Method}";
            }
            else if (FieldForm(handler, fields) is null)
            {
                yield return $"{key.Type}.{key.Method}: no single field form taking the CPU and {fields.Length} fields";
            }
        }
    }

    /// <summary>
    /// Every handler method, by the function pointer a micro-op holds: the static methods of
    /// the handler classes with the handler signature, generic ones instantiated over every
    /// struct type that meets their constraints (the operation and size types).
    /// </summary>
    private static Dictionary<nint, MethodInfo> FindHandlers()
    {
        var map = new Dictionary<nint, MethodInfo>();
        Type[] types = typeof(Handlers).Assembly.GetTypes();
        Type[] structs = [.. types.Where(t => t.IsValueType && !t.IsGenericTypeDefinition && t.Namespace == typeof(Handlers).Namespace)];
        foreach (Type t in types.Where(t => t.Namespace == typeof(Handlers).Namespace && t.IsClass))
        {
            foreach (MethodInfo m in t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (m.ReturnType != typeof(int) || !m.GetParameters().Select(p => p.ParameterType).SequenceEqual(HandlerParameters))
                {
                    continue;
                }

                foreach (MethodInfo inst in Instantiations(m, structs))
                {
                    map.TryAdd(inst.MethodHandle.GetFunctionPointer(), inst);
                }
            }
        }

        return map;
    }

    private static IEnumerable<MethodInfo> Instantiations(MethodInfo m, Type[] structs)
    {
        if (!m.IsGenericMethodDefinition)
        {
            yield return m;
            yield break;
        }

        Type[] parameters = m.GetGenericArguments();
        var candidates = parameters.Select(p => structs.Where(s => p.GetGenericParameterConstraints().All(c => c.IsAssignableFrom(s))).ToArray()).ToArray();
        var pick = new Type[parameters.Length];
        foreach (Type[] args in Combine(candidates, 0, pick))
        {
            MethodInfo? inst = null;
            try
            {
                inst = m.MakeGenericMethod(args);
            }
            catch (ArgumentException)
            {
                // A constraint the simple filter above did not see: not a real instantiation.
            }

            if (inst is not null)
            {
                yield return inst;
            }
        }
    }

    private static IEnumerable<Type[]> Combine(Type[][] candidates, int at, Type[] pick)
    {
        if (at == candidates.Length)
        {
            yield return (Type[])pick.Clone();
            yield break;
        }

        foreach (Type t in candidates[at])
        {
            pick[at] = t;
            foreach (Type[] r in Combine(candidates, at + 1, pick))
            {
                yield return r;
            }
        }
    }
}
