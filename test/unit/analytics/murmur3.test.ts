import { alertId } from '../../../analytics';
import { murmur3x86128Hex } from '../../../analytics/murmur3';

/** Reference values from Python's mmh3 5.3.1: mmh3.hash_bytes(s.encode(), 0, False).hex(). */
const VECTORS: [string, string][] = JSON.parse(
  '[["", "00000000000000000000000000000000"], ["a", "3c9394a71bb056551bb056551bb05655"], ["hello", "a044242bf7de91dbb631db9ab631db9a"], ["AAPL|BUY|1717421400000", "7e07b41ef73cf2084e5c065ae19b920e"], ["BRK.A|VOLUME_SPIKE|1717421400123", "f93f89dcc7d127da89750310483851ad"], ["012", "a5fe94cd8ed7134c8ed7134c8ed7134c"], ["0123", "ea8f37dc36355d4836355d4836355d48"], ["01234", "eeb3c53516213b7b8810ae008810ae00"], ["01234567", "84bf22aa020416925e3cb8635e3cb863"], ["012345678", "675f1b572681d475305c20d0dc75a64c"], ["0123456789ab", "f993aacf7e2a98b65d2b41538fd0d304"], ["0123456789abc", "1daf70c9019d6dcc83c600dde3ee11fc"], ["0123456789abcde", "6dc4763cc018084dda33d4adfa7386a7"], ["0123456789abcdef", "09447dfb0ad3ae369b1dad48fd3b2b57"], ["0123456789abcdefg", "36981f7f76386b5130c029ac74f3d6f9"], ["0123456789abcdefghijklmnopqrstu", "144bea645302acb35ec0064d5fcbb32e"], ["0123456789abcdefghijklmnopqrstuv", "ce5fdee5dccc0aa62a4a35d944914b71"], ["0123456789abcdefghijklmnopqrstuvw", "38ea2d711ee0d267f770ab6156d94a4d"], ["caf\\u00e9|\\u20ac|\\ud83d\\ude00", "288bdc94b1d1a1199dcf48ffd9f07d3f"]]',
) as [string, string][];

describe('alert ids (MurmurHash3 x86_128)', () => {
  it.each(VECTORS)('%p matches the reference implementation', (input, hex) => {
    expect(murmur3x86128Hex(input)).toBe(hex);
  });

  it('alertId hashes symbol|type|ts', () => {
    expect(alertId('AAPL', 'BUY', 1_717_421_400_000)).toBe('7e07b41ef73cf2084e5c065ae19b920e');
  });

  it('no collisions over 200,000 realistic ids', () => {
    const ids = new Set<string>();
    const types = ['BUY', 'SELL', 'ANOMALY', 'VOLUME_SPIKE'] as const;
    for (let i = 0; i < 50_000; i++) for (const t of types) ids.add(alertId(`S${i % 500}`, t, 1_717_421_400_000 + i));
    expect(ids.size).toBe(200_000);
  });
});
