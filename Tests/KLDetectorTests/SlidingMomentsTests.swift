import Testing

@testable import KLDetector

/// The running sums' error bounds are bounds: after rebuilds and long runs of fused slides, over spikes,
/// offsets and cancellation, the tracked `sumError` and `sumOfSquaresError` cover the distance to the sums
/// computed in double-double arithmetic (about 1e-32 relative, exact for this purpose).
@Suite struct SlidingMomentsTests {
    enum Shape: CaseIterable { case noise, largeOffset, spikes, symmetric }

    @Test(arguments: Shape.allCases, [9, 100, 1000])
    func trackedErrorBoundsHold(_ shape: Shape, _ count: Int) {
        var random = SplitMix64(state: UInt64(count) &* 31 &+ UInt64(Shape.allCases.firstIndex(of: shape)!))
        func next(_ index: Int) -> Double {
            let noise = random.gaussian()
            switch shape {
            case .noise: return 0.02 + 0.003 * noise
            case .largeOffset: return 1000 + 1e-4 * noise + 1e-7 * Double(index)
            case .spikes: return index % 37 == 0 ? 5 + noise : 0.02 + 0.003 * noise
            case .symmetric: return noise
            }
        }
        var window = (0..<count).map(next)
        var moments = SlidingMoments()
        window.withUnsafeBufferPointer { moments.rebuild($0, UnsafeBufferPointer(start: nil, count: 0)) }
        expectBoundsHold(moments, window, "after rebuild")
        var oldest = 0
        let checkEvery = count > 100 ? 10 : 1
        for index in count..<(count + 4000) {
            let x = next(index)
            moments.replace(window[oldest], with: x)
            window[oldest] = x
            oldest = (oldest + 1) % count
            if index % checkEvery == 0 { expectBoundsHold(moments, window, "step \(index)") }
            if index % 997 == 0 {
                // A rebuild from the ring's two runs, as the detector does it.
                let runs = (Array(window[oldest...]), Array(window[..<oldest]))
                runs.0.withUnsafeBufferPointer { first in
                    runs.1.withUnsafeBufferPointer { second in moments.rebuild(first, second) }
                }
                expectBoundsHold(moments, window, "rebuild at \(index)")
            }
        }
    }

    func expectBoundsHold(_ moments: SlidingMoments, _ values: [Double], _ label: String) {
        var sum = DoubleDouble()
        var squares = DoubleDouble()
        for x in values {
            let deviation = DoubleDouble.difference(x, moments.shift)
            sum.add(deviation)
            squares.add(deviation.squared)
        }
        let sumDistance = abs((sum - moments.sum).value)
        let squaresDistance = abs((squares - moments.sumOfSquares).value)
        #expect(sumDistance <= moments.sumError, "\(label): sum")
        #expect(squaresDistance <= moments.sumOfSquaresError, "\(label): sum of squares")
    }
}

/// A double-double: value = high + low, with |low| ≤ ulp(high)/2.
struct DoubleDouble {
    var high = 0.0
    var low = 0.0

    var value: Double { high + low }

    static func twoSum(_ a: Double, _ b: Double) -> DoubleDouble {
        let s = a + b
        let bb = s - a
        return DoubleDouble(high: s, low: (a - (s - bb)) + (b - bb))
    }

    static func difference(_ a: Double, _ b: Double) -> DoubleDouble { twoSum(a, -b) }

    mutating func add(_ other: DoubleDouble) {
        let s = Self.twoSum(high, other.high)
        let t = Self.twoSum(low, other.low)
        var sum = Self.twoSum(s.high, s.low + t.high)
        sum = Self.twoSum(sum.high, sum.low + t.low)
        self = sum
    }

    static func - (a: DoubleDouble, b: Double) -> DoubleDouble {
        var result = a
        result.add(DoubleDouble(high: -b, low: 0))
        return result
    }

    var squared: DoubleDouble {
        let product = high * high
        let error = (-product).addingProduct(high, high)  // fused: exact
        var result = DoubleDouble(high: product, low: error)
        result.add(DoubleDouble(high: 2 * high * low, low: low * low))
        return result
    }
}
