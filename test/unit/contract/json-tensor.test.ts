import { LIFTED_KEY, liftNumberArrays } from '../../../src/contract/json-tensor';

/** The tensor of a JSON infer body is read straight into a Float32Array, never as JS values. */
describe('liftNumberArrays', () => {
  const lift = (json: string, max = 100) => liftNumberArrays(Buffer.from(json), 'data', max);

  it('reads flat and nested arrays as JSON.parse and flat() would, and leaves the rest to JSON.parse', () => {
    const nested = '{"inputs":[{"name":"pixels", "data" : [ [[0.5, 1e-3 ,-0],[1, 2.5E1, 0.25]] ] }], "id":"x"}';
    const lifted = lift(nested);
    expect(Array.from(lifted.arrays[0])).toEqual(Array.from(Float32Array.from((JSON.parse(nested).inputs[0].data as number[][][]).flat(3))));
    expect(JSON.parse(lifted.text)).toEqual({ inputs: [{ name: 'pixels', data: { [LIFTED_KEY]: 0 } }], id: 'x' });
    expect(Array.from(lift('{"data":[1,2,3]}').arrays[0])).toEqual([1, 2, 3]);
    expect(Array.from(lift('{"data":[[], [ ], [1]]}').arrays[0])).toEqual([1]);
  });

  it('leaves strings alone, and a "data" key whose value is not an array', () => {
    const json = '{"id":"\\"data\\":[1,2]","note":"data","data":"text","x":{"data":5}}';
    const lifted = lift(json);
    expect(lifted.arrays).toEqual([]);
    expect(JSON.parse(lifted.text)).toEqual(JSON.parse(json));
  });

  it('refuses past the most values a request can need, and anything that is not a number, with 400', () => {
    expect(() => lift(`{"data":[${Array(101).fill(1).join(',')}]}`)).toThrow(expect.objectContaining({ statusCode: 400, code: 'invalid_parameter', message: expect.stringContaining('more than 100 values') }));
    for (const bad of ['[1,null]', '[1,"2"]', '[true]', '[1,{}]', '[0x10]', '[1e]', '[Infinity]', '[+1]', '[.5]', '[01]', '[1 2]', '[1,,2]', '[1,]', '[,1]', '[[1][2]]']) {
      expect(() => lift(`{"data":${bad}}`)).toThrow(expect.objectContaining({ statusCode: 400 }));
    }
    expect(() => lift('{"data":[1,2],"more":{"data":[3]}}')).toThrow(expect.objectContaining({ statusCode: 400, message: expect.stringContaining('only one') }));
    expect(() => lift('{"data":[1,2')).toThrow(expect.objectContaining({ statusCode: 400, code: 'invalid_json' }));
  });
});
