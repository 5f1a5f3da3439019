using Emulator.Memory;

namespace Emulator.Devices;

/// <summary>
/// The part of the 8042 keyboard controller (ports 0x60 data, 0x64 status/command) that PC
/// software uses to reset the machine; there is no keyboard or mouse behind it.
/// </summary>
/// <remarks>
/// <para>
/// Reset: command 0xFE ("pulse output port bit 0", the reset line), or any pulse command
/// 0xF0-0xFF with bit 0 clear, asks the machine to reset, as Linux's <c>reboot=k</c> and most
/// BIOSes do; so does command 0xD1 (write output port) followed by a data byte with bit 0 (the
/// active-low reset line) clear. The request goes through the callback given to the
/// constructor; the machine decides when to act (after the current instruction).
/// </para>
/// <para>
/// Status (port 0x64): output and input buffers always empty (bits 0, 1 clear), system flag set
/// (bit 2, POST passed), bit 3 = the last write went to the command port, keyboard not
/// inhibited (bit 4). Data reads (port 0x60) return 0. Other commands are accepted and ignored.
/// </para>
/// </remarks>
public sealed class KeyboardControllerReset : IPortDevice
{
    public const ushort DataPort = 0x60;
    public const ushort CommandPort = 0x64;
    public const byte PulseReset = 0xFE;
    public const byte WriteOutputPort = 0xD1;

    private readonly Action _requestReset;
    private bool _lastWasCommand;
    private bool _outputPortNext;

    /// <param name="requestReset">Called, on the emulator thread, when the guest asks for a reset.</param>
    public KeyboardControllerReset(Action requestReset)
    {
        ArgumentNullException.ThrowIfNull(requestReset);
        _requestReset = requestReset;
    }

    /// <summary>Claims ports 0x60 and 0x64.</summary>
    public void RegisterOn(IoPortBus bus)
    {
        bus.Register(DataPort, 1, this);
        bus.Register(CommandPort, 1, this);
    }

    /// <summary>The state after a machine reset.</summary>
    public void Reset()
    {
        _lastWasCommand = false;
        _outputPortNext = false;
    }

    public uint In(ushort port, int size)
    {
        BytePortDevice.CheckSize(size);
        uint value = port == CommandPort ? 0x14u | (_lastWasCommand ? 0x08u : 0) : 0;
        for (int i = 1; i < size; i++)
        {
            value |= 0xFFu << (8 * i); // the next ports are not this device's
        }

        return value;
    }

    public void Out(ushort port, int size, uint value)
    {
        BytePortDevice.CheckSize(size);
        byte b = (byte)value;
        if (port == CommandPort)
        {
            _lastWasCommand = true;
            _outputPortNext = b == WriteOutputPort;
            if (b >= 0xF0 && (b & 1) == 0)
            {
                _requestReset();
            }

            return;
        }

        _lastWasCommand = false;
        if (_outputPortNext)
        {
            _outputPortNext = false;
            if ((b & 1) == 0)
            {
                _requestReset();
            }
        }
    }
}
