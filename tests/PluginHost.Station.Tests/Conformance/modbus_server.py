"""A Modbus TCP server from Debian's python3-pymodbus (3.0), for the modbus-tcp driver's tests.

Usage: modbus_server.py PORT. Unit 1, zero_mode (address 0 is the first register, as on the wire);
100 of each: holding registers and input registers hold 0..99 and 1000..1099, coils and discrete
inputs start all off and all on except every third. Prints "ready" once it accepts connections.
"""
import asyncio
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncTcpServer

port = int(sys.argv[1])
store = ModbusSlaveContext(
    hr=ModbusSequentialDataBlock(0, list(range(100))),
    ir=ModbusSequentialDataBlock(0, [1000 + i for i in range(100)]),
    co=ModbusSequentialDataBlock(0, [False] * 100),
    di=ModbusSequentialDataBlock(0, [i % 3 != 0 for i in range(100)]),
    zero_mode=True,
)
context = ModbusServerContext(slaves={1: store}, single=False)


async def main():
    server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", port), defer_start=True)
    serve = asyncio.create_task(server.serve_forever())
    for _ in range(200):
        await asyncio.sleep(0.02)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            pass
    print("ready", flush=True)
    await serve

asyncio.run(main())
